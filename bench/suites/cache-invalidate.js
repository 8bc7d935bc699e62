// `backendkit cache invalidate --match` over 1,000,000 keys vs the best hand-written pipelined
// SCAN + UNLINK script, both as processes, alternating, same run; medians in keys/s. Watches the
// Redis slowlog the whole time: no command may take over 10 ms.
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { median, redisUrl, unlinkPrefix, waitForQuiet } from '../lib.js'
import { slowLines, watchRedis } from '../redis-watch.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/backendkit.js', import.meta.url))
const KEYS = 1_000_000
const ROUNDS = 3

// The baseline: what a careful engineer would write by hand. SCAN COUNT 1000 with the next SCAN
// sent before this batch's UNLINK is awaited (one round trip per batch, Redis never idle), one
// multi-key UNLINK per batch, no checks at all.
const baseline = `
import { Redis } from 'ioredis'
const [url, match] = process.argv.slice(1)
const redis = new Redis(url, { connectionName: 'bk-bench-baseline' })
let deleted = 0
const unlinks = []
let pending = redis.scan('0', 'MATCH', match, 'COUNT', 1000)
for (;;) {
  const [cursor, keys] = await pending
  if (cursor !== '0') pending = redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
  if (keys.length) unlinks.push(redis.unlink(...keys).then((n) => { deleted += n }))
  if (unlinks.length >= 8) await unlinks.shift()
  if (cursor === '0') break
}
await Promise.all(unlinks)
redis.disconnect()
console.log(JSON.stringify({ deleted }))
`

/** 1M cache entries as the service writes them (JSON envelope, TTL), with pipelined SETs. */
async function populate(redis, prefix, count) {
  const value = JSON.stringify({ v: { id: 1, title: 'a cached post' }, tags: ['post:1'], at: 0 })
  for (let start = 0; start < count; start += 10_000) {
    const pipeline = redis.pipeline()
    for (let i = start; i < Math.min(count, start + 10_000); i++) {
      pipeline.set(`${prefix}cache:item:${i}`, value, 'EX', 3600)
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

const candidates = {
  backendkit: (prefix, n) => {
    const { ms, out } = timed([
      bin,
      'cache',
      'invalidate',
      '--match',
      'item:*',
      '--yes',
      '--json',
      '--prefix',
      prefix,
      '--redis-url',
      redisUrl,
    ])
    if (out.deleted !== n) throw new Error(`backendkit deleted ${out.deleted} of ${n}`)
    return ms
  },
  script: (prefix, n) => {
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}cache:item:*`
    const { ms, out } = timed(['--input-type=module', '-e', baseline, redisUrl, match])
    if (out.deleted !== n) throw new Error(`script deleted ${out.deleted} of ${n}`)
    return ms
  },
}

export const description = `cache invalidate --match over ${KEYS.toLocaleString('en-US')} keys vs a hand-written pipelined SCAN + UNLINK script (processes, alternating, medians); Redis slowlog watched`

export async function run() {
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl, { connectionName: 'bk-bench-setup' })
  const prefix = `bk-bench:${process.pid}:`
  const watch = await watchRedis(Redis, redis, ['scan', 'unlink'])
  const samples = { backendkit: [], script: [] }
  const load = {}
  let seen
  try {
    // warm-up (compile cache, page cache), unmeasured
    for (const candidate of Object.values(candidates)) {
      await populate(redis, prefix, 10_000)
      candidate(prefix, 10_000)
    }
    load.start = await waitForQuiet(1)
    await watch.start()
    for (let round = 0; round < ROUNDS; round++) {
      // alternate who goes first, so neither always runs on a freshly populated, warmer Redis
      const order = round % 2 === 0 ? ['backendkit', 'script'] : ['script', 'backendkit']
      for (const name of order) {
        await populate(redis, prefix, KEYS)
        samples[name].push(candidates[name](prefix, KEYS))
      }
    }
    seen = await watch.finish()
    load.end = Math.round(os.loadavg()[0] * 100) / 100
  } finally {
    await watch.restore()
    await unlinkPrefix(redis, prefix) // whatever a failed round left behind
    redis.disconnect()
  }
  const rate = (ms) => Math.round(KEYS / (ms / 1000))
  const backendkitMs = Math.round(median(samples.backendkit))
  const scriptMs = Math.round(median(samples.script))
  return {
    keys: KEYS,
    rounds: ROUNDS,
    backendkit: {
      ms: backendkitMs,
      keysPerSecond: rate(backendkitMs),
      samplesMs: samples.backendkit.map(Math.round),
    },
    script: {
      ms: scriptMs,
      keysPerSecond: rate(scriptMs),
      samplesMs: samples.script.map(Math.round),
    },
    ratio: Math.round((rate(backendkitMs) / rate(scriptMs)) * 100) / 100,
    target: '>= 0.9x keys/s',
    redisPerCall: seen.perCall,
    loadAverage: load,
    slowlog: seen.slowlog,
  }
}

export function summary(r) {
  return [
    `backendkit cache invalidate  ${r.backendkit.ms} ms  ${r.backendkit.keysPerSecond.toLocaleString('en-US')} keys/s`,
    `pipelined SCAN+UNLINK script ${r.script.ms} ms  ${r.script.keysPerSecond.toLocaleString('en-US')} keys/s`,
    `ratio ${r.ratio}x (target ${r.target})`,
    `Redis time per call: SCAN ${r.redisPerCall.scan.microsPerCall} µs, UNLINK ${r.redisPerCall.unlink.microsPerCall} µs (load average ${r.loadAverage.start} → ${r.loadAverage.end})`,
    ...slowLines(r.slowlog, '1-key SETs'),
  ].join('\n')
}
