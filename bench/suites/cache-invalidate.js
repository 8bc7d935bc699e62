// `backendkit cache invalidate --match` over 1,000,000 keys vs the best hand-written pipelined
// SCAN + UNLINK script, both as processes, alternating, same run; medians in keys/s. Watches the
// Redis slowlog the whole time: no command may take over 10 ms.
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { median } from '../lib.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/backendkit.js', import.meta.url))
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const KEYS = 1_000_000
const ROUNDS = 3
const SLOW_US = 10_000
const CONTROL_MS = 5_000

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

/**
 * The slowlog times a command from start to end, so a command preempted by the OS counts as slow
 * too. On a shared 2-core VM that happens to any command while Redis is busy: the control keeps
 * Redis as busy with 1-key GETs (microseconds of work each) and counts how many of them the
 * slowlog catches, to tell the environment from the commands under test.
 */
async function control(Redis) {
  const redis = new Redis(redisUrl, { connectionName: 'bk-bench-control' })
  const key = `bk-bench:${process.pid}:control`
  await redis.set(key, 'v')
  const started = Date.now()
  let calls = 0
  while (Date.now() - started < CONTROL_MS) {
    const pipeline = redis.pipeline()
    for (let i = 0; i < 10_000; i++) pipeline.get(key)
    await pipeline.exec()
    calls += 10_000
  }
  await redis.del(key)
  redis.disconnect()
  return calls
}

/** Redis's own time per call (INFO commandstats), to set beside the slowlog's outliers. */
async function commandStats(redis) {
  const info = await redis.info('commandstats')
  const stats = {}
  for (const line of info.split('\n')) {
    const match = /^cmdstat_(scan|unlink):calls=(\d+),usec=(\d+)/.exec(line.trim())
    if (match) stats[match[1]] = { calls: Number(match[2]), usec: Number(match[3]) }
  }
  return stats
}

/** Benchmarks on a machine others share: start when it is quiet (or after 5 minutes anyway). */
async function waitForQuiet() {
  for (let waited = 0; waited < 300 && os.loadavg()[0] > 1; waited += 10) {
    if (waited === 0)
      console.log(`waiting for a quieter machine (load ${os.loadavg()[0].toFixed(2)})…`)
    await sleep(10_000)
  }
  return os.loadavg()[0]
}

export const description = `cache invalidate --match over ${KEYS.toLocaleString('en-US')} keys vs a hand-written pipelined SCAN + UNLINK script (processes, alternating, medians); Redis slowlog watched`

export async function run() {
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl, { connectionName: 'bk-bench-setup' })
  const prefix = `bk-bench:${process.pid}:`
  const [, slowerThan] = await redis.config('GET', 'slowlog-log-slower-than')
  const [, maxLen] = await redis.config('GET', 'slowlog-max-len')
  const samples = { backendkit: [], script: [] }
  let slow = []
  let controlCalls = 0
  const perCall = {}
  const load = {}
  try {
    // warm-up (compile cache, page cache), unmeasured
    for (const candidate of Object.values(candidates)) {
      await populate(redis, prefix, 10_000)
      candidate(prefix, 10_000)
    }
    load.start = Math.round((await waitForQuiet()) * 100) / 100
    await redis.config('SET', 'slowlog-log-slower-than', String(SLOW_US))
    await redis.config('SET', 'slowlog-max-len', '1024')
    await redis.slowlog('RESET')
    const before = await commandStats(redis)
    for (let round = 0; round < ROUNDS; round++) {
      // alternate who goes first, so neither always runs on a freshly populated, warmer Redis
      const order = round % 2 === 0 ? ['backendkit', 'script'] : ['script', 'backendkit']
      for (const name of order) {
        await populate(redis, prefix, KEYS)
        samples[name].push(candidates[name](prefix, KEYS))
      }
    }
    const after = await commandStats(redis)
    for (const name of ['scan', 'unlink']) {
      const calls = (after[name]?.calls ?? 0) - (before[name]?.calls ?? 0)
      const usec = (after[name]?.usec ?? 0) - (before[name]?.usec ?? 0)
      perCall[name] = { calls, microsPerCall: calls ? Math.round(usec / calls) : null }
    }
    controlCalls = await control(Redis)
    load.end = Math.round(os.loadavg()[0] * 100) / 100
    slow = (await redis.slowlog('GET', '1024')).map(
      ([, at, micros, args, client = '', clientName = '']) => ({
        at: new Date(Number(at) * 1000).toISOString(),
        ms: Math.round(Number(micros) / 100) / 10,
        command: args.slice(0, 3).join(' ').slice(0, 80),
        client: clientName || client,
      }),
    )
  } finally {
    await redis.config('SET', 'slowlog-log-slower-than', String(slowerThan))
    await redis.config('SET', 'slowlog-max-len', String(maxLen))
    // whatever a failed round left behind
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length) await redis.unlink(...keys)
    } while (cursor !== '0')
    redis.disconnect()
  }
  const rate = (ms) => Math.round(KEYS / (ms / 1000))
  const backendkitMs = Math.round(median(samples.backendkit))
  const scriptMs = Math.round(median(samples.script))
  const byClient = (name) => slow.filter((entry) => entry.client === name)
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
    redisPerCall: perCall,
    loadAverage: load,
    slowlog: {
      thresholdMs: SLOW_US / 1000,
      backendkit: byClient('backendkit'),
      script: byClient('bk-bench-baseline'),
      populate: byClient('bk-bench-setup').length,
      control: { getCalls: controlCalls, slow: byClient('bk-bench-control').length },
      otherClients: slow.filter(
        (e) =>
          !['backendkit', 'bk-bench-baseline', 'bk-bench-setup', 'bk-bench-control'].includes(
            e.client,
          ),
      ),
    },
  }
}

export function summary(r) {
  const slow = (entries) =>
    entries.length
      ? entries.map((e) => `\n    ${e.ms} ms  ${e.command}  (${e.client})`).join('')
      : ' none'
  return [
    `backendkit cache invalidate  ${r.backendkit.ms} ms  ${r.backendkit.keysPerSecond.toLocaleString('en-US')} keys/s`,
    `pipelined SCAN+UNLINK script ${r.script.ms} ms  ${r.script.keysPerSecond.toLocaleString('en-US')} keys/s`,
    `ratio ${r.ratio}x (target ${r.target})`,
    `Redis time per call: SCAN ${r.redisPerCall.scan.microsPerCall} µs, UNLINK ${r.redisPerCall.unlink.microsPerCall} µs (load average ${r.loadAverage.start} → ${r.loadAverage.end})`,
    `commands over ${r.slowlog.thresholdMs} ms — backendkit:${slow(r.slowlog.backendkit)}`,
    `  script:${slow(r.slowlog.script)}`,
    `  populating (1-key SETs): ${r.slowlog.populate}; control (${r.slowlog.control.getCalls.toLocaleString('en-US')} 1-key GETs): ${r.slowlog.control.slow}`,
    `  other clients of this Redis:${slow(r.slowlog.otherClients)}`,
  ].join('\n')
}
