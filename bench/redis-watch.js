// Shared by the benchmarks that must not block Redis (cache-invalidate, queue-retry): what Redis
// itself saw while the candidates ran. The slowlog catches any command over SLOW_US; Redis's own
// time per call comes from INFO commandstats; a control load tells the environment from the
// commands under test.
import { redisUrl } from './lib.js'

/** A command slower than this (µs) is one that blocked Redis. */
export const SLOW_US = 10_000

/** Redis's own time per call (INFO commandstats) of `commands`, counted since Redis started. */
async function commandStats(redis, commands) {
  const info = await redis.info('commandstats')
  const stats = {}
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([a-z]+):calls=(\d+),usec=(\d+)/.exec(line.trim())
    if (match && commands.includes(match[1])) {
      stats[match[1]] = { calls: Number(match[2]), usec: Number(match[3]) }
    }
  }
  return stats
}

/**
 * The slowlog times a command from start to end, so a command preempted by the OS counts as slow
 * too; on a shared 2-core VM that happens to any command while Redis is busy. The control keeps
 * Redis as busy with 1-key GETs (microseconds of work each) for 5 s, under a connection name of
 * its own, so the report can say how many of those the slowlog caught.
 */
async function control(Redis) {
  const redis = new Redis(redisUrl, { connectionName: 'bk-bench-control' })
  const key = `bk-bench:${process.pid}:control`
  await redis.set(key, 'v')
  const started = Date.now()
  let calls = 0
  while (Date.now() - started < 5_000) {
    const pipeline = redis.pipeline()
    for (let i = 0; i < 10_000; i++) pipeline.get(key)
    await pipeline.exec()
    calls += 10_000
  }
  await redis.del(key)
  redis.disconnect()
  return calls
}

/**
 * Watches Redis through `redis` (connected as `bk-bench-setup`): `start()` lowers the slowlog
 * threshold to SLOW_US and empties it; `finish()` runs the control and returns Redis's time per
 * call of `commands` and the slowlog by client (`backendkit`, the `bk-bench-baseline` script, the
 * populating, the control, any other client); `restore()` (in a finally) puts the slowlog
 * settings back.
 */
export async function watchRedis(Redis, redis, commands) {
  const [, slowerThan] = await redis.config('GET', 'slowlog-log-slower-than')
  const [, maxLen] = await redis.config('GET', 'slowlog-max-len')
  let before = {}
  return {
    async start() {
      await redis.config('SET', 'slowlog-log-slower-than', String(SLOW_US))
      await redis.config('SET', 'slowlog-max-len', '1024')
      await redis.slowlog('RESET')
      before = await commandStats(redis, commands)
    },
    async finish() {
      const after = await commandStats(redis, commands)
      const perCall = {}
      for (const name of commands) {
        const calls = (after[name]?.calls ?? 0) - (before[name]?.calls ?? 0)
        const usec = (after[name]?.usec ?? 0) - (before[name]?.usec ?? 0)
        perCall[name] = { calls, microsPerCall: calls ? Math.round(usec / calls) : null }
      }
      const controlCalls = await control(Redis)
      const slow = (await redis.slowlog('GET', '1024')).map(
        ([, at, micros, args, client = '', clientName = '']) => ({
          at: new Date(Number(at) * 1000).toISOString(),
          ms: Math.round(Number(micros) / 100) / 10,
          command: args.slice(0, 3).join(' ').slice(0, 80),
          client: clientName || client,
        }),
      )
      const byClient = (name) => slow.filter((entry) => entry.client === name)
      const known = ['backendkit', 'bk-bench-baseline', 'bk-bench-setup', 'bk-bench-control']
      return {
        perCall,
        slowlog: {
          thresholdMs: SLOW_US / 1000,
          backendkit: byClient('backendkit'),
          script: byClient('bk-bench-baseline'),
          populate: byClient('bk-bench-setup').length,
          control: { getCalls: controlCalls, slow: byClient('bk-bench-control').length },
          otherClients: slow.filter((entry) => !known.includes(entry.client)),
        },
      }
    },
    async restore() {
      await redis.config('SET', 'slowlog-log-slower-than', String(slowerThan))
      await redis.config('SET', 'slowlog-max-len', String(maxLen))
    },
  }
}

/** The slowlog part of a summary: each slow command on a line of its own, or " none". */
export function slowLines(slowlog, populating) {
  const slow = (entries) =>
    entries.length
      ? entries.map((e) => `\n    ${e.ms} ms  ${e.command}  (${e.client})`).join('')
      : ' none'
  return [
    `commands over ${slowlog.thresholdMs} ms — backendkit:${slow(slowlog.backendkit)}`,
    `  script:${slow(slowlog.script)}`,
    `  populating (${populating}): ${slowlog.populate}; control (${slowlog.control.getCalls.toLocaleString('en-US')} 1-key GETs): ${slowlog.control.slow}`,
    `  other clients of this Redis:${slow(slowlog.otherClients)}`,
  ]
}
