import { spawnSync } from 'node:child_process'

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Wall time of one process run, in milliseconds. Throws if the process fails. */
export function timeProcess(command, args, options = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, { stdio: 'ignore', ...options })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  return ms
}

/**
 * Runs each named command `runs` times, interleaved (a, b, a, b, …) so that machine noise hits
 * every candidate alike, after `warmup` unmeasured rounds. Returns the median per name.
 */
export function compareProcesses(candidates, { runs = 25, warmup = 3 } = {}) {
  const samples = Object.fromEntries(Object.keys(candidates).map((name) => [name, []]))
  for (let round = 0; round < warmup + runs; round++) {
    for (const [name, [command, args, options]] of Object.entries(candidates)) {
      const ms = timeProcess(command, args, options)
      if (round >= warmup) samples[name].push(ms)
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [name, Math.round(median(values) * 10) / 10]),
  )
}

/** The PostgreSQL server benchmarks create their scratch databases on. */
export const adminDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Runs one statement on the admin connection (create / drop database). */
export async function adminSql(statement) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: adminDatabaseUrl })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

/** The Redis benchmarks use. */
export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** RabbitMQ for a service with the queues recipe (only its worker connects). */
export const amqpUrl = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

/** Deletes every key under `prefix` through `redis` (SCAN + UNLINK, a batch at a time). */
export async function unlinkPrefix(redis, prefix) {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length) await redis.unlink(...keys)
  } while (cursor !== '0')
}

/** Deletes every key under `prefix` (SCAN + UNLINK), on a connection of its own. */
export async function deleteRedisPrefix(prefix) {
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl)
  try {
    await unlinkPrefix(redis, prefix)
  } finally {
    redis.disconnect()
  }
}

/**
 * Benchmarks on a machine others share: waits (up to `maxWaitMs`) until the 1-minute load
 * average is under `below`, saying so once; returns it, rounded.
 */
export async function waitForQuiet(below = 1.5, maxWaitMs = 300_000) {
  const { loadavg } = await import('node:os')
  const deadline = Date.now() + maxWaitMs
  if (loadavg()[0] >= below) {
    console.log(`waiting for a quieter machine (load ${loadavg()[0].toFixed(2)})…`)
  }
  while (loadavg()[0] >= below && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5_000))
  }
  return Math.round(loadavg()[0] * 100) / 100
}
