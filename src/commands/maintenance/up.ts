import {
  maintenanceKey,
  parseMaintenanceState,
} from '../../../recipes/maintenance/files/src/maintenance/state.js'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import type { OptionValues } from '../options.js'
import type { upOptions } from './index.js'
import { type MaintenanceData, renderState, viewOf } from './shared.js'

/**
 * Ends maintenance mode: deletes the key and announces it; every instance serves again within a
 * second. Restoring service needs no confirmation. Exit 0 also when it was not on.
 */
export default async function up(
  ctx: CommandContext,
  options: OptionValues<typeof upOptions>,
): Promise<CommandResult<MaintenanceData>> {
  const dryRun = Boolean(options.dryRun)
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const key = maintenanceKey(prefix)
  const data = await usingRedis(target, async (redis): Promise<MaintenanceData> => {
    const before = parseMaintenanceState(await redis.get(key))
    const result = { prefix, key, maintenance: false, dryRun, before: viewOf(before), after: null }
    if (dryRun) return { ...result, maintenance: before !== null, published: null }
    if (!before) return { ...result, published: null }
    await redis.del(key)
    await redis.publish(key, 'up')
    return { ...result, published: true }
  })
  return {
    data,
    render: (style) => {
      const where = `under ${prefix || '(no prefix)'} (${key})`
      if (!data.before) return `Not in maintenance ${where}; nothing to do.`
      const lines = data.dryRun
        ? [style.yellow(`Dry run: maintenance would end ${where}. It is on:`)]
        : [style.bold(`Maintenance OFF ${where} on ${target.display}. It was on:`)]
      lines.push(...renderState(data.before, style), '')
      lines.push(
        data.dryRun ? 'Nothing was changed.' : 'Every instance serves again within a second.',
      )
      return lines.join('\n')
    },
  }
}
