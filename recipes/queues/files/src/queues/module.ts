import { ZodError, z } from 'zod'
import { eventLogConsumer } from '../event-log/event-log.js'
import { defineModule, requireService } from '../module.js'
import { notificationOperations, notificationRoutes } from '../notifications/routes.js'
import { NotificationsService } from '../notifications/service.js'
import { webhookOperations, webhookRoutes } from '../webhooks/routes.js'
import { Webhooks, webhookEvents } from '../webhooks/webhooks.js'
import { Broker } from './broker.js'
import { OutboxRelay, recordEventsInOutbox } from './outbox.js'
import { Queues, warnUnlessNoEviction } from './queues.js'
import '../rest/events.js'

declare module '../module.js' {
  interface Services {
    queues: Queues
    notifications: NotificationsService
  }
}

/** An optional variable: empty is the same as unset. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional())

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback)

export const queuesEnv = z.object({
  QUEUE_PREFIX: optional(z.string().regex(/^[^:]/, 'must not start with ":"')),
  QUEUE_CONCURRENCY: positive(10),
  QUEUE_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).default(30_000),
  QUEUE_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  QUEUE_MAX_STALLED_COUNT: z.coerce.number().int().min(0).default(1),
  QUEUE_FAILED_RETENTION_DAYS: z.coerce.number().positive().default(14),
  AMQP_URL: z.url({ protocol: /^amqps?$/, error: 'must be an amqp:// or amqps:// URL' }),
  AMQP_PREFIX: optional(z.string().regex(/^[\w.-]+$/, 'letters, digits, ".", "-" and "_" only')),
  AMQP_PREFETCH: positive(10),
  AMQP_MAX_DELIVERIES: positive(5),
  AMQP_RETRY_DELAY_MS: positive(5_000),
  WEBHOOK_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  WEBHOOK_SECRET: optional(z.string().min(24, 'must be at least 24 characters')),
  WEBHOOK_TIMEOUT_MS: positive(10_000),
  WEBHOOK_ATTEMPTS: positive(8),
  WEBHOOK_BACKOFF_MS: positive(10_000),
})

/**
 * Background work. In the server: producers (jobs added through `services.queues`, a 503 when
 * Redis cannot take them), every domain event recorded in the outbox, GET /api/notifications and
 * POST /api/webhooks/test. In the worker (`npm run worker`): the BullMQ workers (notifications,
 * webhooks), the outbox relay to BullMQ and RabbitMQ, and the RabbitMQ consumer of the event log;
 * all drained on shutdown, and checked by the worker's readiness.
 */
export const queues = defineModule({
  name: 'queues',
  env: queuesEnv,
  async init({ env, role, conventions, logger, services }) {
    const db = requireService(services, 'db', 'queues')
    const redis = requireService(services, 'redis', 'queues')
    const queues = new Queues(
      {
        prefix: env.QUEUE_PREFIX ?? conventions.queues.prefix,
        concurrency: env.QUEUE_CONCURRENCY,
        lockDurationMs: env.QUEUE_LOCK_DURATION_MS,
        stalledIntervalMs: env.QUEUE_STALLED_INTERVAL_MS,
        maxStalledCount: env.QUEUE_MAX_STALLED_COUNT,
        failedRetentionDays: env.QUEUE_FAILED_RETENTION_DAYS,
      },
      redis,
      logger,
    )
    // The queues this module owns, so the gauge reports them from the start.
    for (const name of ['notifications', 'webhooks']) queues.queue(name)
    const notifications = new NotificationsService(db, queues)
    const webhooks = env.WEBHOOK_URL
      ? new Webhooks(
          {
            url: env.WEBHOOK_URL,
            secret: env.WEBHOOK_SECRET,
            timeoutMs: env.WEBHOOK_TIMEOUT_MS,
            attempts: env.WEBHOOK_ATTEMPTS,
            backoffMs: env.WEBHOOK_BACKOFF_MS,
            sender: `${conventions.name}-webhooks`,
          },
          queues,
        )
      : undefined
    const unsubscribe = recordEventsInOutbox(services.events, db, logger)
    const shared = {
      services: { queues, notifications },
      routes: [
        { path: '/api/notifications', router: notificationRoutes(notifications) },
        { path: '/api/webhooks', router: webhookRoutes(webhooks) },
      ],
      openapi: [...notificationOperations, ...webhookOperations],
      gauges: [queues.gauge()],
    }
    if (role === 'server') {
      return {
        ...shared,
        stop: async () => {
          unsubscribe()
          await queues.close()
        },
      }
    }

    if (redis.ready) void warnUnlessNoEviction(redis, logger)
    else redis.client.once('ready', () => void warnUnlessNoEviction(redis, logger))
    const broker = new Broker(
      {
        url: env.AMQP_URL,
        prefix: env.AMQP_PREFIX ?? conventions.name,
        prefetch: env.AMQP_PREFETCH,
        maxDeliveries: env.AMQP_MAX_DELIVERIES,
        retryDelayMs: env.AMQP_RETRY_DELAY_MS,
        connectionName: `${conventions.name}:worker`,
      },
      logger.child({ broker: 'rabbitmq' }),
    )
    const eventLog = broker.consume(eventLogConsumer(db))
    await broker.start()
    const workers = [queues.work('notifications', [notifications.handler()])]
    if (webhooks) workers.push(queues.work('webhooks', [webhooks.handler()]))
    const relay = new OutboxRelay(
      db,
      [
        {
          name: 'queues',
          column: 'queued_at',
          dispatch: async (event) => {
            await notifications.enqueueFor(event)
            if (webhooks && webhookEvents.has(event.name)) await webhooks.enqueue(event)
          },
          isPermanent: (error) => error instanceof ZodError,
        },
        { name: 'broker', column: 'published_at', dispatch: (event) => broker.publish(event) },
      ],
      logger.child({ outbox: true }),
    )
    await relay.start()
    // A broker back after an outage: what waited in the outbox goes now, not after the backoff.
    broker.onConnect(() => relay.retryNow())
    redis.client.on('ready', () => relay.retryNow())
    return {
      ...shared,
      readiness: {
        rabbitmq: () => broker.check(),
        'queue-workers': () => queues.checkWorkers(),
      },
      // Drained together on SIGTERM: running jobs and messages in hand finish first.
      drain: [...workers, eventLog, relay],
      // Workers, queues, then channels; pools and Redis close after, with their modules.
      stop: async () => {
        unsubscribe()
        await relay.drain()
        await queues.close()
        await broker.close()
      },
    }
  },
})
