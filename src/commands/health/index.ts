import type { Command } from 'commander'
import { parseDuration } from '../../core/duration.js'
import type { ActionFactory } from '../index.js'
import { addOptions, option } from '../options.js'

export const healthOptions = [
  option('--wait', 'poll until ready or --timeout (a CI deploy gate)'),
  option('--timeout <duration>', 'how long --wait polls, e.g. 60s, 2m', {
    parse: parseDuration,
    default: 60_000,
    defaultDescription: '60s',
  }),
  option('--interval <duration>', 'pause between polls', {
    parse: parseDuration,
    default: 1_000,
    defaultDescription: '1s',
  }),
] as const

export function registerHealth(program: Command, action: ActionFactory): void {
  addOptions(
    program
      .command('health')
      .description("probe the service's liveness and readiness; exit 1 when not ready")
      .argument('[url]', 'base URL of the service (default: health.url of backendkit.json)'),
    healthOptions,
  ).action(action(() => import('./probe.js')))
}
