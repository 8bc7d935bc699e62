import type { Command } from 'commander'
import { parseDuration } from '../../core/duration.js'
import type { ActionFactory } from '../index.js'

export function registerHealth(program: Command, action: ActionFactory): void {
  program
    .command('health')
    .description("probe the service's liveness and readiness; exit 1 when not ready")
    .argument('[url]', 'base URL of the service (default: health.url of backendkit.json)')
    .option('--wait', 'poll until ready or --timeout (a CI deploy gate)')
    .option('--timeout <duration>', 'how long --wait polls, e.g. 60s, 2m', parseDuration, 60_000)
    .option('--interval <duration>', 'pause between polls', parseDuration, 1_000)
    .action(action(() => import('./probe.js')))
}
