import {
  BYPASS_SECRET,
  hashSecret,
  type MaintenanceState,
  maintenanceKey,
  parseMaintenanceState,
} from '../../../recipes/maintenance/files/src/maintenance/state.js'
import { resolveActor } from '../../core/actor.js'
import { confirmDestructive } from '../../core/confirm.js'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import type { OptionValues } from '../options.js'
import type { downOptions } from './index.js'
import { type MaintenanceData, renderState, viewOf } from './shared.js'

const MAX_MESSAGE = 500

/**
 * Maintenance mode on every instance: writes `<prefix>maintenance` and announces it on the
 * channel of the same name. Each `down` writes the whole state from its options (a second one
 * changes the message, Retry-After or secret; `since` stays). Asks on a terminal, needs --yes
 * otherwise.
 */
export default async function down(
  ctx: CommandContext,
  options: OptionValues<typeof downOptions>,
): Promise<CommandResult<MaintenanceData>> {
  const { secret, message } = options
  if (secret !== undefined && !BYPASS_SECRET.test(secret)) {
    throw usageError(
      '--secret must be 8 to 128 characters: letters, digits, ".", "_", "~" and "-".',
      'It travels in a URL and a cookie; e.g. `--secret "$(openssl rand -hex 16)"`.',
    )
  }
  if (message !== undefined && (message.trim() === '' || message.length > MAX_MESSAGE)) {
    throw usageError(
      `--message must be 1 to ${MAX_MESSAGE} characters.`,
      'Say what is happening and when it ends, e.g. --message "Upgrading the database until 14:00 UTC".',
    )
  }
  const dryRun = Boolean(options.dryRun)
  const by = resolveActor(ctx, options.actor, ctx.project.root).name
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const key = maintenanceKey(prefix)
  const data = await usingRedis(target, async (redis): Promise<MaintenanceData> => {
    const before = parseMaintenanceState(await redis.get(key))
    const after: MaintenanceState = {
      since: before?.since ?? new Date().toISOString(),
      retryAfter: options.retry,
      message: message ?? null,
      secretHash: secret === undefined ? null : hashSecret(secret),
      by,
    }
    const result = {
      prefix,
      key,
      maintenance: true,
      dryRun,
      before: viewOf(before),
      after: viewOf(after),
    }
    if (dryRun) return { ...result, maintenance: before !== null, published: null }
    await confirmDestructive(
      ctx,
      `take the service under ${prefix || '(no prefix)'} on ${target.display} into maintenance (every request but health probes gets 503)`,
    )
    await redis.set(key, JSON.stringify(after))
    await redis.publish(key, 'down')
    return { ...result, published: true }
  })
  return {
    data,
    render: (style) => {
      const after = data.after
      if (!after) return ''
      const head = data.dryRun
        ? style.yellow(
            `Dry run: maintenance would be on under ${prefix || '(no prefix)'} (${key}):`,
          )
        : style.bold(
            `Maintenance ON under ${prefix || '(no prefix)'} (${key}) on ${target.display}:`,
          )
      const tail = data.dryRun
        ? 'Nothing was changed.'
        : 'Every instance answers 503 within a second (health probes excepted). End it with `backendkit up`.'
      return [head, ...renderState(after, style), '', tail].join('\n')
    },
  }
}
