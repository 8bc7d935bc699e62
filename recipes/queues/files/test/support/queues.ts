import { randomBytes } from 'node:crypto'
import { connect } from 'amqplib'
import type { Job, Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { afterAll } from 'vitest'
import { useRedisPrefix } from './redis.js'

/** The RabbitMQ tests use: TEST_AMQP_URL, else AMQP_URL, else the local one. */
export const testAmqpUrl =
  process.env.TEST_AMQP_URL ?? process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

export interface TestQueues {
  /** This file's Redis key prefix, and a client of the test's own. */
  prefix: string
  redis: Redis
  /** Redis (with this file's key prefix), BullMQ's prefix under it, and RabbitMQ names of its own. */
  env: Record<string, string>
  /** BullMQ's key prefix of this file. */
  queuePrefix: string
  /** The prefix of this file's RabbitMQ exchange and queues. */
  amqpPrefix: string
}

/**
 * Redis keys (BullMQ's included) and RabbitMQ names of this test file's own, so files run in
 * parallel; the keys are deleted after the file's tests, and so are its exchanges and queues.
 */
export function useTestQueues(): TestQueues {
  const redis = useRedisPrefix()
  const queuePrefix = `${redis.prefix}bull`
  const amqpPrefix = `test-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  afterAll(async () => {
    const connection = await connect(testAmqpUrl)
    try {
      const channel = await connection.createChannel()
      for (const queue of ['event-log', 'event-log.retry', 'event-log.dead']) {
        await channel.deleteQueue(`${amqpPrefix}.${queue}`)
      }
      for (const exchange of ['events', 'dead-letter']) {
        await channel.deleteExchange(`${amqpPrefix}.${exchange}`)
      }
    } finally {
      await connection.close()
    }
  })
  return {
    prefix: redis.prefix,
    redis: redis.redis,
    queuePrefix,
    amqpPrefix,
    env: {
      ...redis.env,
      QUEUE_PREFIX: queuePrefix,
      AMQP_URL: testAmqpUrl,
      AMQP_PREFIX: amqpPrefix,
    },
  }
}

/** Waits until job `id` of `queue` is in `state`, then reads it (its fields as of that state). */
export async function jobIn(
  queue: Queue,
  id: string,
  state: 'completed' | 'failed' | 'active',
  timeoutMs = 15_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if ((await queue.getJobState(id)) === state) {
      const job = await queue.getJob(id)
      if (job) return job
    }
    if (Date.now() > deadline) {
      throw new Error(
        `job ${id} not ${state} within ${timeoutMs} ms: ${await queue.getJobState(id)}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
