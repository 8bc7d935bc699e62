import { OpenFeature } from '@openfeature/server-sdk'
import { z } from 'zod'
import { defineModule, requireService } from '../module.js'
import { FlagsProvider } from './openfeature.js'
import { flagOperations, flagRoutes } from './routes.js'
import { FlagStore } from './store.js'

declare module '../module.js' {
  interface Services {
    flags: FlagStore
  }
}

export const flagsEnv = z.object({
  /** The fallback when an announcement is lost or Redis is down: read the flags this often. */
  FLAGS_POLL_INTERVAL_S: z.coerce.number().positive().max(3_600).default(10),
})

/**
 * Feature flags (`services.flags`): held in memory by every instance (server and worker),
 * refreshed when `backendkit flags` announces a change on Redis and polled as a fallback;
 * `GET /api/flags` for clients; and the OpenFeature provider, registered globally so
 * `OpenFeature.getClient()` answers from these flags.
 */
export const flags = defineModule({
  name: 'flags',
  env: flagsEnv,
  async init({ env, conventions, logger, services }) {
    const db = requireService(services, 'db', 'flags')
    const redis = requireService(services, 'redis', 'flags')
    const store = new FlagStore({
      db: db.write,
      table: conventions.flags.table,
      subscriber: redis.connect('subscriber'),
      channel: conventions.flags.channel,
      pollIntervalMs: env.FLAGS_POLL_INTERVAL_S * 1_000,
      logger,
    })
    await store.start()
    const provider = new FlagsProvider(store)
    OpenFeature.setProvider(provider)
    return {
      services: { flags: store },
      routes: [{ path: '/api/flags', router: flagRoutes(store) }],
      openapi: flagOperations,
      readiness: { flags: () => store.ready() },
      async stop() {
        // Several apps in one process (tests) each register theirs; the last one wins.
        if (OpenFeature.getProvider() === provider) await OpenFeature.clearProviders()
        await store.stop()
      },
    }
  },
})
