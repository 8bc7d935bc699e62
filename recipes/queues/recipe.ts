import { defineRecipe } from '../../src/scaffold/recipe.js'

export const queues = defineRecipe({
  name: 'queues',
  summary:
    'BullMQ jobs and RabbitMQ events from a PostgreSQL outbox: notifications, webhooks, a worker',
  requires: ['database', 'redis', 'auth', 'rest'],
  dependencies: ['bullmq', 'amqplib'],
  module: { from: './queues/module.js', name: 'queues' },
  env: [
    {
      name: 'QUEUE_PREFIX',
      example: '',
      description: "Overrides backendkit.json's queues.prefix, BullMQ's key prefix (empty: use it)",
    },
    {
      name: 'QUEUE_CONCURRENCY',
      example: '10',
      description: 'Jobs each worker process runs at once, per queue',
    },
    {
      name: 'QUEUE_LOCK_DURATION_MS',
      example: '30000',
      description: "A running job's lock; a worker silent this long has stalled",
    },
    {
      name: 'QUEUE_STALLED_INTERVAL_MS',
      example: '30000',
      description: 'How often workers look for stalled jobs and put them back',
    },
    {
      name: 'QUEUE_MAX_STALLED_COUNT',
      example: '1',
      description: 'Stalls a job survives; one more and it fails',
    },
    {
      name: 'QUEUE_FAILED_RETENTION_DAYS',
      example: '14',
      description: 'Failed jobs are kept this long for `backendkit queue inspect` and `retry`',
    },
    {
      name: 'AMQP_URL',
      example: 'amqp://guest:guest@127.0.0.1:5672',
      description: 'RabbitMQ (amqps:// for TLS): domain events, published by the worker',
    },
    {
      name: 'AMQP_PREFIX',
      example: '',
      description: 'Names of the exchange and queues: <prefix>.events, … (empty: the project name)',
    },
    {
      name: 'AMQP_PREFETCH',
      example: '10',
      description: 'Unacknowledged messages a consumer holds at once',
    },
    {
      name: 'AMQP_MAX_DELIVERIES',
      example: '5',
      description: 'Failed deliveries before a message goes to the dead-letter queue',
    },
    {
      name: 'AMQP_RETRY_DELAY_MS',
      example: '5000',
      description: 'Wait before a failed message is delivered again',
    },
    {
      name: 'WEBHOOK_URL',
      example: '',
      description: 'POST post and comment events here, with retries (empty: no webhooks)',
    },
    {
      name: 'WEBHOOK_SECRET',
      example: '',
      description:
        'Signs each webhook (Standard Webhooks: webhook-signature), 24+ characters (empty: unsigned)',
    },
    {
      name: 'WEBHOOK_TIMEOUT_MS',
      example: '10000',
      description: 'A webhook delivery that takes longer fails and is retried',
    },
    {
      name: 'WEBHOOK_ATTEMPTS',
      example: '8',
      description: 'Deliveries tried before a webhook job fails for good',
    },
    {
      name: 'WEBHOOK_BACKOFF_MS',
      example: '10000',
      description: 'First retry delay of a webhook, doubling each time',
    },
  ],
  adds: [
    'src/queues/',
    'npm run worker',
    'GET /api/notifications',
    'POST /api/webhooks/test',
    'outbox → BullMQ + RabbitMQ',
    'readiness: rabbitmq, queue-workers (worker)',
  ],
})
