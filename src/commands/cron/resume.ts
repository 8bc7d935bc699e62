import type { CommandContext } from '../../core/context.js'
import { setSchedulePaused } from './pause.js'

export default function cronResume(ctx: CommandContext, name: string) {
  return setSchedulePaused(ctx, name, false)
}
