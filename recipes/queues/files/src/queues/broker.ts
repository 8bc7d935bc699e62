import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  connect,
  type RecoveringChannelModel,
} from 'amqplib'
import { z } from 'zod'
import type { Logger } from '../lib/logger.js'
import { requestContext } from '../lib/request-context.js'
import type { Drainable } from '../lib/shutdown.js'
import type { StoredEvent } from './outbox.js'

export interface BrokerSettings {
  url: string
  /** Names the exchange and queues: `<prefix>.events`, `<prefix>.<consumer>`, … */
  prefix: string
  /** Messages a consumer holds unacknowledged at once. */
  prefetch: number
  /** Failed deliveries of a message before it goes to the dead-letter queue. */
  maxDeliveries: number
  /** Wait before a failed message is delivered again. */
  retryDelayMs: number
  /** Shown in the RabbitMQ management UI. */
  connectionName: string
}

/** What the message body carries: the event as the outbox stored it. */
export const eventMessage = z.object({
  id: z.uuid(),
  name: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  requestId: z.string().optional(),
  payload: z.unknown(),
})

export interface Delivery {
  /** 1 for the first delivery, 2 for the first retry, … */
  attempt: number
  /** RabbitMQ delivered it before without an answer (a consumer died holding it). */
  redelivered: boolean
}

export interface ConsumerDefinition {
  /** The queue is `<prefix>.<name>`; its retry and dead-letter queues are named after it. */
  name: string
  /** Topic patterns of the events it wants, e.g. ['post.*', 'comment.created'] or ['#']. */
  bindings: readonly string[]
  handle(event: StoredEvent, delivery: Delivery): Promise<void>
}

const PUBLISH_TIMEOUT_MS = 5_000

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * RabbitMQ for domain events. Events are published persistently on a durable topic exchange
 * (`<prefix>.events`, routing key = event name) through a confirm channel: `publish` resolves
 * only once the broker has taken the message. Consumers get a durable queue each, with
 * `prefetch`; a message is acked after its handler succeeded; a failure is delivered again after
 * `retryDelayMs` (through `<queue>.retry`, whose messages expire back into the queue) until
 * `maxDeliveries`, then dead-lettered to `<queue>.dead`; a message that is not an event at all
 * goes there at once. The connection recovers with backoff and jitter, and every recovery declares
 * the topology and the consumers again (amqplib restores neither).
 */
export class Broker {
  readonly exchange: string
  private readonly deadLetterExchange: string
  private readonly consumers: Consumer[] = []
  private connection: RecoveringChannelModel | undefined
  private connected = false
  private publisher: Promise<ConfirmChannel> | undefined
  private outage = false
  private readonly connectListeners: (() => void)[] = []

  constructor(
    private readonly settings: BrokerSettings,
    private readonly logger: Logger,
  ) {
    this.exchange = `${settings.prefix}.events`
    this.deadLetterExchange = `${settings.prefix}.dead-letter`
  }

  /** Registers a consumer; it starts with the connection (and again after every recovery). */
  consume(definition: ConsumerDefinition): Drainable {
    const consumer = new Consumer(definition, this.settings, this.logger)
    this.consumers.push(consumer)
    return consumer
  }

  /** Calls `listener` after every (re)connection, once the consumers are declared again. */
  onConnect(listener: () => void): void {
    this.connectListeners.push(listener)
  }

  /** Connects in the background: a broker that is down does not stop the start (see readiness). */
  async start(): Promise<void> {
    const connection = await connect(this.settings.url, {
      clientProperties: { connection_name: this.settings.connectionName },
      recovery: {
        waitForConnect: false,
        initialDelay: 200,
        maxDelay: 5_000,
        jitter: 0.5,
        setup: (model: ChannelModel) => this.setup(model),
      },
    })
    connection.on('connect', () => {
      this.connected = true
      if (this.outage) this.logger.info('RabbitMQ reachable again; consumers declared again')
      this.outage = false
      for (const listener of this.connectListeners) listener()
    })
    connection.on('disconnect', (error: Error) => this.lost(error))
    connection.on('connect-failed', (error: Error) => this.lost(error))
    connection.on('error', (error: Error) => this.logger.debug({ err: error }, 'RabbitMQ error'))
    connection.on('blocked', (reason: string) =>
      this.logger.warn({ reason }, 'RabbitMQ blocks publishing (a resource alarm)'),
    )
    this.connection = connection
  }

  private lost(error: Error): void {
    this.connected = false
    this.publisher = undefined
    if (!this.outage) this.logger.warn({ err: error }, 'RabbitMQ unreachable; reconnecting')
    this.outage = true
  }

  /** After each (re)connection: the exchanges, and each consumer's queues and subscription. */
  private async setup(model: ChannelModel): Promise<void> {
    // Until recovery adopts the connection (after this), its errors are ours to hear: a socket
    // closing mid-setup would otherwise be an uncaught 'error' event and end the process.
    model.on('error', (error: Error) => this.logger.debug({ err: error }, 'RabbitMQ error'))
    const channel = await model.createChannel()
    channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'setup channel'))
    try {
      await channel.assertExchange(this.exchange, 'topic', { durable: true })
      await channel.assertExchange(this.deadLetterExchange, 'direct', { durable: true })
    } finally {
      await channel.close()
    }
    for (const consumer of this.consumers) {
      await consumer.attach(model, this.exchange, this.deadLetterExchange, () => this.confirmed())
    }
  }

  /** The confirm channel of the current connection (opened on first use after each connect). */
  private confirmed(): Promise<ConfirmChannel> {
    const connection = this.connection
    if (!connection) return Promise.reject(new Error('the broker was not started'))
    if (!this.publisher) {
      const opening = connection.createConfirmChannel().then((channel) => {
        channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'publish channel'))
        channel.on('close', () => {
          if (this.publisher === opening) this.publisher = undefined
        })
        return channel
      })
      opening.catch(() => {
        if (this.publisher === opening) this.publisher = undefined
      })
      this.publisher = opening
    }
    return this.publisher
  }

  /** Resolves once RabbitMQ has confirmed the event (persistent, on the durable exchange). */
  async publish(event: StoredEvent): Promise<void> {
    if (!this.connected) throw new Error('RabbitMQ is unreachable')
    const channel = await withTimeout(this.confirmed(), PUBLISH_TIMEOUT_MS, 'opening a channel')
    const body = Buffer.from(JSON.stringify(event))
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        channel.publish(
          this.exchange,
          event.name,
          body,
          {
            persistent: true,
            contentType: 'application/json',
            messageId: event.id,
            type: event.name,
            timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
          },
          (error) => (error ? reject(new Error('RabbitMQ refused the message')) : resolve()),
        )
      }),
      PUBLISH_TIMEOUT_MS,
      'a publish confirm',
    )
  }

  /** For readiness: connected, and every consumer subscribed. */
  async check(): Promise<void> {
    if (!this.connected) throw new Error('RabbitMQ is unreachable')
    for (const consumer of this.consumers) {
      if (!consumer.subscribed) throw new Error(`consumer ${consumer.name} is not subscribed`)
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.closeChannel()))
    await this.connection?.close()
    this.connected = false
  }
}

/** One consumer: its queues, its channel on the current connection, its messages in flight. */
class Consumer implements Drainable {
  readonly name: string
  private channel: Channel | undefined
  private consumerTag: string | undefined
  private inFlight = 0
  private draining = false
  private idle: (() => void) | undefined

  constructor(
    private readonly definition: ConsumerDefinition,
    private readonly settings: BrokerSettings,
    private readonly logger: Logger,
  ) {
    this.name = `${settings.prefix}.${definition.name}`
  }

  get subscribed(): boolean {
    return this.consumerTag !== undefined
  }

  async attach(
    model: ChannelModel,
    exchange: string,
    deadLetterExchange: string,
    publisher: () => Promise<ConfirmChannel>,
  ): Promise<void> {
    const queue = this.name
    const channel = await model.createChannel()
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-dead-letter-exchange': deadLetterExchange,
        'x-dead-letter-routing-key': queue,
      },
    })
    // Retries wait here (each message with its own expiration) and expire back into the queue.
    await channel.assertQueue(`${queue}.retry`, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
    })
    await channel.assertQueue(`${queue}.dead`, { durable: true })
    await channel.bindQueue(`${queue}.dead`, deadLetterExchange, queue)
    for (const pattern of this.definition.bindings) {
      await channel.bindQueue(queue, exchange, pattern)
    }
    await channel.prefetch(this.settings.prefetch)
    channel.on('error', (error: Error) =>
      this.logger.warn({ err: error, queue }, 'consumer channel'),
    )
    channel.on('close', () => {
      if (this.channel !== channel) return
      this.channel = undefined
      this.consumerTag = undefined
    })
    this.channel = channel
    if (this.draining) return
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message) void this.receive(channel, message, publisher)
        else this.consumerTag = undefined // cancelled by the broker (the queue was deleted)
      },
      { noAck: false },
    )
    this.consumerTag = consumerTag
  }

  private async receive(
    channel: Channel,
    message: ConsumeMessage,
    publisher: () => Promise<ConfirmChannel>,
  ): Promise<void> {
    this.inFlight++
    const queue = this.name
    const attempt = Number(message.properties.headers?.['x-attempt'] ?? 1) || 1
    const context = { queue, messageId: message.properties.messageId, attempt }
    // After a reconnect the channel is gone: the broker delivers the message again, unacked.
    const settle = (fn: () => void) => {
      try {
        fn()
      } catch (error) {
        this.logger.debug({ err: error, ...context }, 'message not settled: the channel closed')
      }
    }
    try {
      let parsed: ReturnType<typeof eventMessage.safeParse>
      try {
        parsed = eventMessage.safeParse(JSON.parse(message.content.toString('utf8')))
      } catch {
        parsed = eventMessage.safeParse(undefined)
      }
      if (!parsed.success) {
        this.logger.error(context, 'not an event message: dead-lettered without retries')
        settle(() => channel.nack(message, false, false))
        return
      }
      const event = parsed.data
      const handle = async () => {
        try {
          await this.definition.handle(event, {
            attempt,
            redelivered: message.fields.redelivered,
          })
          settle(() => channel.ack(message))
        } catch (error) {
          if (attempt >= this.settings.maxDeliveries) {
            this.logger.error({ err: error, ...context }, 'message failed for good: dead-lettered')
            settle(() => channel.nack(message, false, false))
            return
          }
          this.logger.warn({ err: error, ...context }, 'message failed; delivered again later')
          try {
            await this.retryLater(message, attempt + 1, await publisher())
            settle(() => channel.ack(message))
          } catch (retryError) {
            this.logger.warn({ err: retryError, ...context }, 'cannot schedule the retry; requeued')
            settle(() => channel.nack(message, false, true))
          }
        }
      }
      // Every line written about the message carries the id of the request that caused it.
      await (event.requestId
        ? requestContext.run({ requestId: event.requestId }, handle)
        : handle())
    } finally {
      this.inFlight--
      if (this.inFlight === 0) this.idle?.()
    }
  }

  private retryLater(message: ConsumeMessage, attempt: number, channel: ConfirmChannel) {
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        channel.sendToQueue(
          `${this.name}.retry`,
          message.content,
          {
            ...message.properties,
            persistent: true,
            expiration: String(this.settings.retryDelayMs),
            headers: { ...message.properties.headers, 'x-attempt': attempt },
          },
          (error) => (error ? reject(new Error('RabbitMQ refused the retry')) : resolve()),
        )
      }),
      PUBLISH_TIMEOUT_MS,
      'a retry confirm',
    )
  }

  /** Stops taking messages and waits for those in hand to be handled and acked. */
  async drain(): Promise<void> {
    this.draining = true
    const { channel, consumerTag } = this
    this.consumerTag = undefined
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => {})
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve))
  }

  abort(): void {
    void this.closeChannel()
  }

  async closeChannel(): Promise<void> {
    const channel = this.channel
    this.channel = undefined
    this.consumerTag = undefined
    await channel?.close().catch(() => {})
  }
}
