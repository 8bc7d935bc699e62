// Feature flags: (1) evaluation as the request path does it (FlagSet from the recipe's own
// src/flags/evaluate.ts, the code both the service and `flags eval` run), and (2) how long a
// change takes to reach two running instances of a built service: 50 toggles by
// `backendkit flags set` (in-process, as a CI step runs it), each timed until both instances
// answer the new value on GET /api/flags. The instances poll only once a minute, so what is
// measured is the announcement on Redis and the read that follows it.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { backendkitBin, builtProject, startServer } from '../http.js'
import { adminDatabaseUrl, adminSql, deleteRedisPrefix, median, redisUrl } from '../lib.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const TOGGLES = 50

const flagServer = `
import { createApp } from './dist/app.js'
import { loadConfig } from './dist/config.js'
import { loadConventions } from './dist/conventions.js'
import { createLogger } from './dist/lib/logger.js'
import { modules } from './dist/modules.js'
const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn' }, modules)
const app = await createApp({ config, conventions: loadConventions(), logger: createLogger(config.core), modules })
const server = app.express.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('message', () => process.send(process.cpuUsage()))
`

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
const round = (ms) => Math.round(ms * 10) / 10

/** ns per call of `fn`, median of 7 runs of `calls` calls each (after a warm-up run). */
function nsPerCall(fn, calls = 1_000_000) {
  const runs = []
  for (let run = 0; run < 8; run++) {
    let sink = 0
    const started = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) if (fn(i)) sink++
    const ns = Number(process.hrtime.bigint() - started) / calls
    if (sink < 0) console.log(sink) // keep the result alive
    if (run > 0) runs.push(ns)
  }
  return Math.round(median(runs))
}

async function evaluation() {
  const { FlagSet } = await import(path.join(repo, 'recipes/flags/files/src/flags/evaluate.ts'))
  // 50 flags like a service accumulates: partial rollouts, off flags, allow and deny lists of
  // 100 ids each; callers are UUIDs.
  const users = Array.from({ length: 1024 }, () => crypto.randomUUID())
  const rules = Array.from({ length: 50 }, (_, i) => ({
    name: `feature-${i}`,
    enabled: i % 5 !== 0,
    percentage: (i * 7) % 101,
    allow: users.slice(i, i + 100),
    deny: users.slice(500 + i, 600 + i),
  }))
  const flags = new FlagSet(rules)
  const user = (i) => ({ id: users[i & 1023] })
  return {
    partialRolloutNs: nsPerCall((i) => flags.isEnabled('feature-3', user(i))),
    allowListNs: nsPerCall((i) => flags.isEnabled('feature-1', { id: users[1 + (i % 100)] })),
    offFlagNs: nsPerCall((i) => flags.isEnabled('feature-5', user(i))),
    unknownFlagNs: nsPerCall((i) => flags.isEnabled('no-such-flag', user(i))),
    evaluateAll50FlagsNs: nsPerCall((i) => flags.evaluateAll(user(i)), 20_000),
    target: 'isEnabled < 1000 ns',
  }
}

async function propagation() {
  const database = `bench_flags_${process.pid}`
  const prefix = `bench-flags-${process.pid}:`
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${database}`
  const servers = []
  const { root, cleanup } = builtProject(['--recipes', 'flags'])
  const subscriber = new Redis(redisUrl)
  try {
    await adminSql(`create database ${database}`)
    const env = {
      ...process.env,
      DATABASE_URL: url.href,
      REDIS_URL: redisUrl,
      BACKENDKIT_ACTOR: 'bench',
    }
    const migrate = spawnSync(process.execPath, [backendkitBin, 'migrate', 'up'], {
      cwd: root,
      env,
    })
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`)
    const { writeFileSync } = await import('node:fs')
    writeFileSync(path.join(root, 'bench-flags.mjs'), flagServer)
    const serverEnv = {
      DATABASE_URL: url.href,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      FLAGS_POLL_INTERVAL_S: '60',
    }
    const instances = [
      await startServer(root, 'bench-flags.mjs', serverEnv),
      await startServer(root, 'bench-flags.mjs', serverEnv),
    ]
    servers.push(...instances)

    const { run } = await import(path.join(repo, 'dist/cli.js'))
    const quiet = { write: () => true, isTTY: false }
    const backendkit = async (args) => {
      const code = await run([...args, '--cwd', root], {
        stdout: quiet,
        stderr: quiet,
        stdin: { isTTY: false },
        env,
        cwd: root,
        prompt: { confirm: async () => false },
      })
      if (code !== 0) throw new Error(`backendkit ${args.join(' ')} exited ${code}`)
    }
    // When the announcement went out, as a subscriber on the same Redis hears it.
    let announcedAt = 0
    subscriber.on('message', () => {
      announcedAt = performance.now()
    })
    await subscriber.subscribe('svc:flags')

    const valueOn = async (base) =>
      (await (await fetch(`${base}/api/flags`)).json()).flags?.['bench-toggle']
    // A client asking every millisecond or so: the resolution of the figures below.
    const until = async (base, expected) => {
      for (;;) {
        if ((await valueOn(base)) === expected) return performance.now()
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
    await backendkit(['flags', 'set', 'bench-toggle', '--create', '--off', '--yes'])
    await Promise.all(instances.map((s) => until(s.base, false)))

    const fromCommand = []
    const fromAnnouncement = []
    const commandMs = []
    for (let i = 0; i < TOGGLES; i++) {
      const enabled = i % 2 === 0
      const started = performance.now()
      const seen = Promise.all(instances.map((s) => until(s.base, enabled)))
      await backendkit(['flags', 'set', 'bench-toggle', enabled ? '--on' : '--off', '--yes'])
      const returned = performance.now()
      const both = Math.max(...(await seen))
      fromCommand.push(both - started)
      fromAnnouncement.push(both - announcedAt)
      commandMs.push(returned - started)
    }
    const summary = (values) => ({
      median: round(median(values)),
      p99: round(percentile(values, 99)),
    })
    return {
      toggles: TOGGLES,
      fromCommandStartMs: summary(fromCommand),
      fromAnnouncementMs: summary(fromAnnouncement),
      commandMs: summary(commandMs),
      target: 'p99 < 250 ms',
    }
  } finally {
    for (const server of servers) server.child.kill()
    subscriber.disconnect()
    await adminSql(`drop database if exists ${database} with (force)`)
    await deleteRedisPrefix(prefix)
    cleanup()
  }
}

export const description = `flag evaluation per call (in memory), and ${TOGGLES} toggles by \`backendkit flags set\` until two running instances answer them`

export async function run() {
  return { evaluation: await evaluation(), propagation: await propagation() }
}

export function summary(r) {
  const e = r.evaluation
  const p = r.propagation
  return [
    `isEnabled: partial rollout ${e.partialRolloutNs} ns, allow list ${e.allowListNs} ns, off ${e.offFlagNs} ns, unknown ${e.unknownFlagNs} ns per call; evaluateAll (50 flags) ${e.evaluateAll50FlagsNs} ns`,
    `flags set → both instances, from the command's start: median ${p.fromCommandStartMs.median} ms, p99 ${p.fromCommandStartMs.p99} ms`,
    `  from the announcement: median ${p.fromAnnouncementMs.median} ms, p99 ${p.fromAnnouncementMs.p99} ms; the command itself: median ${p.commandMs.median} ms`,
  ].join('\n')
}
