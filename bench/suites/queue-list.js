// `backendkit queue list` over 50 queues vs a bare script doing the same SCAN and counts, both as
// processes, interleaved, medians.
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { compareProcesses, redisUrl, unlinkPrefix, waitForQuiet } from '../lib.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/backendkit.js', import.meta.url))
const QUEUES = 50

// The baseline: the same SCAN for <prefix>:*:meta and the same counts per queue (one pipeline),
// printed as JSON, with nothing else: no option parsing, no project lookup, no checks.
const baseline = `
import { Redis } from 'ioredis'
const [url, prefix] = process.argv.slice(1)
const redis = new Redis(url)
const names = []
let cursor = '0'
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', prefix + ':*:meta', 'COUNT', 1000)
  cursor = next
  for (const key of keys) names.push(key.slice(prefix.length + 1, -5))
} while (cursor !== '0')
names.sort()
const pipeline = redis.pipeline()
for (const name of names) {
  const q = prefix + ':' + name + ':'
  pipeline.llen(q + 'wait').llen(q + 'paused').llen(q + 'active').zcard(q + 'delayed')
  pipeline.zcard(q + 'prioritized').zcard(q + 'waiting-children').zcard(q + 'failed')
  pipeline.zcard(q + 'completed').hexists(q + 'meta', 'paused')
}
const replies = await pipeline.exec()
const queues = names.map((name, i) => ({ name, counts: replies.slice(i * 9, i * 9 + 9).map(([, n]) => Number(n)) }))
redis.disconnect()
console.log(JSON.stringify({ queues }))
`

/** 50 queues, each with a few jobs in several states, as BullMQ keeps them. */
async function populate(redis, prefix) {
  const pipeline = redis.pipeline()
  for (let q = 0; q < QUEUES; q++) {
    const base = `${prefix}:queue-${String(q).padStart(2, '0')}:`
    pipeline.hset(`${base}meta`, 'opts.maxLenEvents', '10000', 'version', 'bullmq:6.7.0')
    for (let j = 0; j < 20; j++) {
      const id = String(j + 1)
      pipeline.hset(
        base + id,
        'name',
        'job',
        'data',
        '{}',
        'opts',
        '{}',
        'timestamp',
        String(Date.now()),
      )
      if (j < 5) pipeline.lpush(`${base}wait`, id)
      else if (j < 10) pipeline.zadd(`${base}delayed`, Date.now() * 4096, id)
      else if (j < 15) pipeline.zadd(`${base}failed`, Date.now(), id)
      else pipeline.zadd(`${base}completed`, Date.now(), id)
    }
  }
  await pipeline.exec()
}

export const description = `queue list with ${QUEUES} queues vs a bare script doing the same SCAN and counts (processes, 25 interleaved runs, medians)`

export async function run() {
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl)
  const prefix = `bk-bench:${process.pid}:bull`
  const load = {}
  try {
    await populate(redis, prefix)
    load.start = await waitForQuiet(1.5)
    const medians = compareProcesses(
      {
        backendkit: [
          process.execPath,
          [bin, 'queue', 'list', '--json', '--queue-prefix', prefix, '--redis-url', redisUrl],
          { cwd: repo },
        ],
        script: [
          process.execPath,
          ['--input-type=module', '-e', baseline, redisUrl, prefix],
          { cwd: repo },
        ],
      },
      { runs: 25, warmup: 3 },
    )
    load.end = Math.round(os.loadavg()[0] * 100) / 100
    return {
      queues: QUEUES,
      backendkitMs: medians.backendkit,
      scriptMs: medians.script,
      ratio: Math.round((medians.backendkit / medians.script) * 100) / 100,
      target: '<= 1.5x the time of the script',
      loadAverage: load,
    }
  } finally {
    await unlinkPrefix(redis, prefix)
    redis.disconnect()
  }
}

export function summary(r) {
  return [
    `backendkit queue list (${r.queues} queues)  ${r.backendkitMs} ms`,
    `bare SCAN + counts script          ${r.scriptMs} ms`,
    `ratio ${r.ratio}x (target ${r.target}; load average ${r.loadAverage.start} → ${r.loadAverage.end})`,
  ].join('\n')
}
