import { z } from 'zod'
import { accountOperations } from '../accounts/openapi.js'
import { accountRoutes } from '../accounts/routes.js'
import { LedgerService } from '../accounts/service.js'
import { defineModule, requireService } from '../module.js'
import { ProjectionRunner } from './projection-runner.js'
import { projections } from './projections.js'
import { Snapshots } from './snapshots.js'
import { EventStore } from './store.js'

declare module '../module.js' {
  interface Services {
    eventStore: EventStore
    /** One runner per projection: `catchUp()` applies what the log holds now. */
    projections: readonly ProjectionRunner[]
    ledger: LedgerService
  }
}

export const eventsEnv = z.object({
  /** An account is snapshotted every this many events. */
  LEDGER_SNAPSHOT_EVERY: z.coerce.number().int().min(2).default(100),
  /** How often projections catch up with the log without being told to. */
  PROJECTION_POLL_MS: z.coerce.number().int().positive().default(1_000),
})

/**
 * Event sourcing: the append-only event store (`services.eventStore`), its projections kept up to
 * date in every process, and the account ledger (`services.ledger`, /api/accounts) built on them.
 */
export const events = defineModule({
  name: 'events',
  env: eventsEnv,
  init({ env, role, services, logger }) {
    const db = requireService(services, 'db', 'events')
    const store = new EventStore(db)
    const runners = projections.map(
      (projection) => new ProjectionRunner(db, projection, { logger }),
    )
    for (const runner of runners) runner.start(env.PROJECTION_POLL_MS)
    const balances = runners.find((runner) => runner.projection.name === 'account-balances')
    if (!balances) throw new Error('the account-balances projection is not registered')
    const ledger = new LedgerService(db, store, new Snapshots(db), balances, services.events, {
      snapshotEvery: env.LEDGER_SNAPSHOT_EVERY,
      logger,
    })
    return {
      services: { eventStore: store, projections: runners, ledger },
      ...(role === 'server'
        ? {
            routes: [{ path: '/api/accounts', router: accountRoutes(ledger) }],
            openapi: accountOperations,
          }
        : {}),
      async stop() {
        await Promise.all(runners.map((runner) => runner.stop()))
      },
    }
  },
})
