import { z } from 'zod'
import { defineModule, requireService } from '../module.js'
import { maintenanceMode } from './middleware.js'
import { maintenanceKey } from './state.js'
import { MaintenanceWatcher } from './watcher.js'

/**
 * Maintenance mode behind `backendkit down` / `backendkit up`: a Redis key under the prefix,
 * read once a second per instance (and at once when the CLI announces a change), and the
 * middleware in the `maintenance` slot that answers 503 while it is set. Readiness is not
 * affected (see the README: load balancers must keep sending, so clients get the 503 with
 * Retry-After and bypassing requests get through). Only the HTTP server takes part.
 */
export const maintenance = defineModule({
  name: 'maintenance',
  env: z.object({}),
  async init({ role, services, logger }) {
    if (role !== 'server') return {}
    const redis = requireService(services, 'redis', 'maintenance')
    const watcher = new MaintenanceWatcher({
      client: redis.client,
      subscriber: redis.connect('subscriber'),
      key: maintenanceKey(redis.prefix),
      intervalMs: 1_000,
      logger,
    })
    await watcher.start()
    return {
      middleware: [
        { slot: 'maintenance', handler: maintenanceMode({ state: () => watcher.state }) },
      ],
      stop: () => watcher.stop(),
    }
  },
})
