import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions } from './index.js'
import { type QueuePauseData, setPaused } from './pause.js'

export default function queueResume(
  ctx: CommandContext,
  name: string,
  options: OptionValues<typeof queueGroupOptions>,
): Promise<CommandResult<QueuePauseData>> {
  return setPaused(ctx, name, options, false)
}
