// `backendkit queue retry <q> --all` of 100,000 failed jobs vs a bare BullMQ `retryJobs` script,
// both as processes, alternating, same run; then the filtered retry (--name, half of them match).
// Medians in jobs/s. Watches the Redis slowlog the whole time: no command may take over 10 ms.
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { median, redisUrl, unlinkPrefix, waitForQuiet } from '../lib.js'
import { slowLines, watchRedis } from '../redis-watch.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/backendkit.js', import.meta.url))
const JOBS = 100_000
const ROUNDS = 3
const QUEUE = 'bench'

// The baseline: BullMQ's own bulk retry, as its docs show it, in a process of its own.
const baseline = `
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
const [url, prefix, name] = process.argv.slice(1)
const connection = new Redis(url, { connectionName: 'bk-bench-baseline' })
const queue = new Queue(name, { connection, prefix })
await queue.retryJobs({ state: 'failed' })
const left = await queue.getFailedCount()
await queue.close()
connection.disconnect()
console.log(JSON.stringify({ left }))
`

/**
 * `count` failed jobs written exactly as a BullMQ 6 worker leaves them (the hash fields of a job
 * that failed its only attempt, and the `failed` set scored by finishedOn), with pipelines:
 * failing 100,000 jobs through a worker would take minutes. Names alternate welcome / digest.
 */
async function populate(redis, prefix, count) {
  const base = `${prefix}:${QUEUE}:`
  await redis.hset(`${base}meta`, 'opts.maxLenEvents', '10000', 'version', 'bullmq:6.7.0')
  await redis.set(`${base}id`, String(count))
  const at = Date.now() - count - 60_000
  const stack = JSON.stringify([
    'Error: connect ETIMEDOUT 10.0.0.7:443\n    at deliver (file:///app/dist/webhooks/webhooks.js:88:13)',
  ])
  for (let start = 0; start < count; start += 5_000) {
    const pipeline = redis.pipeline()
    for (let i = start; i < Math.min(count, start + 5_000); i++) {
      const id = String(i + 1)
      const finishedOn = at + i
      pipeline.hset(
        base + id,
        'name',
        i % 2 === 0 ? 'welcome' : 'digest',
        'data',
        JSON.stringify({ userId: `u-${i}`, template: 'welcome' }),
        'opts',
        '{"attempts":1}',
        'timestamp',
        String(finishedOn - 40),
        'delay',
        '0',
        'priority',
        '0',
        'processedOn',
        String(finishedOn - 5),
        'finishedOn',
        String(finishedOn),
        'atm',
        '1',
        'ats',
        '1',
        'failedReason',
        'connect ETIMEDOUT 10.0.0.7:443',
        'stacktrace',
        stack,
      )
      pipeline.zadd(`${base}failed`, finishedOn, id)
    }
    await pipeline.exec()
  }
}

function timed(args) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`)
  return { ms, out: JSON.parse(result.stdout) }
}

const cli = (prefix, ...args) =>
  timed([
    bin,
    'queue',
    'retry',
    QUEUE,
    '--all',
    ...args,
    '--json',
    '--queue-prefix',
    prefix,
    '--redis-url',
    redisUrl,
  ])

const candidates = {
  backendkit: (prefix) => {
    const { ms, out } = cli(prefix)
    if (out.outcomes.retried !== JOBS) throw new Error(`backendkit retried ${out.outcomes.retried}`)
    return ms
  },
  script: (prefix) => {
    const { ms, out } = timed(['--input-type=module', '-e', baseline, redisUrl, prefix, QUEUE])
    if (out.left !== 0) throw new Error(`the script left ${out.left} failed jobs`)
    return ms
  },
  filtered: (prefix) => {
    const { ms, out } = cli(prefix, '--name', 'welcome')
    if (out.outcomes.retried !== JOBS / 2)
      throw new Error(`filtered retried ${out.outcomes.retried}`)
    return ms
  },
}

export const description = `queue retry --all of ${JOBS.toLocaleString('en-US')} failed jobs vs a bare BullMQ retryJobs script; the same filtered by --name (half match); processes, alternating, medians; Redis slowlog watched`

export async function run() {
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl, { connectionName: 'bk-bench-setup' })
  const prefix = `bk-bench:${process.pid}:bull`
  const watch = await watchRedis(Redis, redis, ['evalsha', 'hmget', 'zrange'])
  const samples = { backendkit: [], script: [], filtered: [] }
  const load = {}
  let seen
  try {
    // warm-up, unmeasured: each candidate once on a small queue
    for (const name of Object.keys(candidates)) {
      await unlinkPrefix(redis, prefix)
      await populate(redis, prefix, 2_000)
      try {
        candidates[name](prefix)
      } catch {
        // counts differ on the small queue; only the warm-up matters
      }
    }
    load.start = await waitForQuiet(1.5)
    await watch.start()
    for (let round = 0; round < ROUNDS; round++) {
      const names = Object.keys(candidates)
      const order = round % 2 === 0 ? names : [...names].reverse()
      for (const name of order) {
        await unlinkPrefix(redis, prefix)
        await populate(redis, prefix, JOBS)
        samples[name].push(candidates[name](prefix))
      }
    }
    seen = await watch.finish()
    load.end = Math.round(os.loadavg()[0] * 100) / 100
  } finally {
    await watch.restore()
    await unlinkPrefix(redis, prefix)
    redis.disconnect()
  }
  const rate = (jobs, ms) => Math.round(jobs / (ms / 1000))
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v))]))
  return {
    jobs: JOBS,
    rounds: ROUNDS,
    backendkit: {
      ms: ms.backendkit,
      jobsPerSecond: rate(JOBS, ms.backendkit),
      samplesMs: samples.backendkit.map(Math.round),
    },
    script: {
      ms: ms.script,
      jobsPerSecond: rate(JOBS, ms.script),
      samplesMs: samples.script.map(Math.round),
    },
    ratio: Math.round((rate(JOBS, ms.backendkit) / rate(JOBS, ms.script)) * 100) / 100,
    target: '>= 0.8x jobs/s',
    filtered: {
      ms: ms.filtered,
      samplesMs: samples.filtered.map(Math.round),
      jobsLookedAtPerSecond: rate(JOBS, ms.filtered),
      jobsRetriedPerSecond: rate(JOBS / 2, ms.filtered),
      target: '>= 50,000 jobs/s',
    },
    redisPerCall: seen.perCall,
    loadAverage: load,
    slowlog: seen.slowlog,
  }
}

export function summary(r) {
  const fmt = (n) => n.toLocaleString('en-US')
  return [
    `backendkit queue retry --all   ${r.backendkit.ms} ms  ${fmt(r.backendkit.jobsPerSecond)} jobs/s`,
    `bare retryJobs script          ${r.script.ms} ms  ${fmt(r.script.jobsPerSecond)} jobs/s`,
    `ratio ${r.ratio}x (target ${r.target})`,
    `--all --name (half match)      ${r.filtered.ms} ms  ${fmt(r.filtered.jobsLookedAtPerSecond)} jobs looked at/s, ${fmt(r.filtered.jobsRetriedPerSecond)} retried/s (target ${r.filtered.target})`,
    `Redis time per call: EVALSHA ${r.redisPerCall.evalsha.microsPerCall} µs, HMGET ${r.redisPerCall.hmget.microsPerCall} µs, ZRANGE ${r.redisPerCall.zrange.microsPerCall} µs (load average ${r.loadAverage.start} → ${r.loadAverage.end})`,
    ...slowLines(r.slowlog, 'HSET/ZADD'),
  ].join('\n')
}
