import { randomUUID } from 'node:crypto'
import { type Channel, type ChannelModel, connect } from 'amqplib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../src/lib/logger.js'
import { Broker, type BrokerSettings, type Delivery } from '../src/queues/broker.js'
import type { StoredEvent } from '../src/queues/outbox.js'
import { pollUntil, sleep } from './support/load.js'
import { testAmqpUrl, useTestQueues } from './support/queues.js'
import { TcpProxy } from './support/tcp-proxy.js'

// The Broker on the real RabbitMQ, each test with exchange and queue names of its own.

const logger = createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' })
const space = useTestQueues()
let admin: ChannelModel
let channel: Channel
const brokers: Broker[] = []
const prefixes: string[] = []

beforeAll(async () => {
  admin = await connect(testAmqpUrl)
  channel = await admin.createChannel()
})
afterAll(async () => {
  for (const broker of brokers) await broker.close()
  const cleanup = await admin.createChannel()
  for (const prefix of prefixes) {
    for (const queue of ['inbox', 'inbox.retry', 'inbox.dead', 'tap']) {
      await cleanup.deleteQueue(`${prefix}.${queue}`)
    }
    await cleanup.deleteExchange(`${prefix}.events`)
    await cleanup.deleteExchange(`${prefix}.dead-letter`)
  }
  await admin.close()
})

let run = 0
function settings(overrides: Partial<BrokerSettings> = {}): BrokerSettings {
  const prefix = `${space.amqpPrefix}-${++run}`
  prefixes.push(prefix)
  return {
    url: testAmqpUrl,
    prefix,
    prefetch: 10,
    maxDeliveries: 3,
    retryDelayMs: 50,
    connectionName: 'broker-test',
    ...overrides,
  }
}

const event = (name = 'post.created', payload: unknown = { n: 1 }): StoredEvent => ({
  id: randomUUID(),
  name,
  payload,
  occurredAt: new Date().toISOString(),
  requestId: 'req-1',
})

type Handler = (event: StoredEvent, delivery: Delivery) => Promise<void>

/** A started broker with one consumer (`<prefix>.inbox`, every event) running `handle`. */
async function startBroker(handle: Handler, overrides: Partial<BrokerSettings> = {}) {
  const config = settings(overrides)
  const broker = new Broker(config, logger)
  brokers.push(broker)
  const consumer = broker.consume({ name: 'inbox', bindings: ['#'], handle })
  await broker.start()
  await pollUntil(() =>
    broker.check().then(
      () => true,
      () => undefined,
    ),
  )
  return { broker, consumer, config }
}

describe('the broker', () => {
  it('publishes persistently on a durable topic exchange, confirmed, routed by event name', async () => {
    const seen: StoredEvent[] = []
    const { broker, config } = await startBroker(async (e) => void seen.push(e))
    const tap = `${config.prefix}.tap`
    await channel.assertQueue(tap, { durable: false })
    await channel.bindQueue(tap, `${config.prefix}.events`, 'comment.*')
    const sent = event('comment.created')
    await broker.publish(event('post.created'))
    await broker.publish(sent)
    const message = await pollUntil(
      async () => (await channel.get(tap, { noAck: true })) || undefined,
    )
    expect(message.fields.routingKey).toBe('comment.created')
    expect(message.properties).toMatchObject({
      deliveryMode: 2,
      messageId: sent.id,
      type: 'comment.created',
      contentType: 'application/json',
    })
    expect(JSON.parse(message.content.toString())).toEqual(sent)
    await pollUntil(async () => (seen.length === 2 ? true : undefined))
    expect(seen.map((e) => e.name)).toEqual(['post.created', 'comment.created'])
    // Durable: declaring it otherwise is refused by RabbitMQ.
    const probe = await admin.createChannel()
    probe.on('error', () => {})
    await expect(
      probe.assertExchange(`${config.prefix}.events`, 'topic', { durable: false }),
    ).rejects.toThrow(/PRECONDITION_FAILED/)
  })

  it('a consumer holds at most `prefetch` messages unacknowledged', async () => {
    let inHand = 0
    let most = 0
    let handled = 0
    const { broker } = await startBroker(
      async () => {
        inHand++
        most = Math.max(most, inHand)
        await sleep(100)
        inHand--
        handled++
      },
      { prefetch: 2 },
    )
    for (let i = 0; i < 6; i++) await broker.publish(event())
    await pollUntil(async () => (handled === 6 ? true : undefined))
    expect(most).toBe(2)
  })

  it('a message that is not an event goes to the dead-letter queue at once', async () => {
    let calls = 0
    const { config } = await startBroker(async () => {
      calls++
    })
    channel.publish(`${config.prefix}.events`, 'post.created', Buffer.from('not json'))
    const dead = await pollUntil(
      async () => (await channel.get(`${config.prefix}.inbox.dead`, { noAck: true })) || undefined,
    )
    expect(dead.content.toString()).toBe('not json')
    expect(calls).toBe(0)
  })

  it('a failing message is delivered again after the retry delay, then dead-lettered after N failures', async () => {
    const attempts: number[] = []
    const { broker, config } = await startBroker(async (_e, delivery) => {
      attempts.push(delivery.attempt)
      throw new Error('handler broke')
    })
    const sent = event()
    await broker.publish(sent)
    const dead = await pollUntil(
      async () => (await channel.get(`${config.prefix}.inbox.dead`, { noAck: true })) || undefined,
    )
    expect(attempts).toEqual([1, 2, 3])
    expect(dead.properties.messageId).toBe(sent.id)
    expect(dead.properties.headers?.['x-attempt']).toBe(3)
  })

  it('a message that fails once succeeds on its next delivery', async () => {
    const attempts: number[] = []
    const { broker } = await startBroker(async (_e, delivery) => {
      attempts.push(delivery.attempt)
      if (delivery.attempt === 1) throw new Error('flaky')
    })
    await broker.publish(event())
    await pollUntil(async () => (attempts.length === 2 ? true : undefined))
    await sleep(200)
    expect(attempts).toEqual([1, 2])
  })

  it('reconnects after the connection is cut, declares its consumers again and consumes', async () => {
    const proxy = await TcpProxy.start(testAmqpUrl)
    try {
      const seen: string[] = []
      const { broker } = await startBroker(async (e) => void seen.push(e.id), {
        url: proxy.url(testAmqpUrl),
      })
      await broker.publish(event())
      await pollUntil(async () => (seen.length === 1 ? true : undefined))
      await proxy.cut()
      await pollUntil(() =>
        broker.check().then(
          () => undefined,
          () => true,
        ),
      )
      await expect(broker.publish(event())).rejects.toThrow(/unreachable/)
      await proxy.restore()
      await pollUntil(
        () =>
          broker.check().then(
            () => true,
            () => undefined,
          ),
        { timeoutMs: 15_000 },
      )
      const after = event()
      await broker.publish(after)
      await pollUntil(async () => (seen.includes(after.id) ? true : undefined))
    } finally {
      await proxy.close()
    }
  })

  it('drain stops taking messages and waits for the one in hand', async () => {
    let release: () => void = () => {}
    let started = 0
    let finished = 0
    const { broker, consumer } = await startBroker(async () => {
      started++
      await new Promise<void>((resolve) => (release = resolve))
      finished++
    })
    await broker.publish(event())
    await pollUntil(async () => (started === 1 ? true : undefined))
    const drained = consumer.drain()
    await broker.publish(event())
    await sleep(100)
    expect(finished).toBe(0)
    release()
    await drained
    expect(finished).toBe(1)
    await sleep(100)
    expect(started).toBe(1)
  })
})
