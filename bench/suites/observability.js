// What the observability recipe costs, and what a Prometheus scrape costs:
// - GET /api/posts/:id on the complete service vs the same service generated without
//   observability (`--without observability`), one database and Redis, same run (target >= 0.95x);
// - GET /metrics (behind METRICS_TOKEN on the API port) once requests have been seen on 20 route
//   templates and 5 queues hold jobs in every state a job waits in (target < 20 ms).
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  backendkitBin,
  builtProject,
  CONNECTIONS,
  compareTargets,
  DURATION_S,
  line,
  ROUNDS,
  ratio,
  startServer,
} from '../http.js'
import { adminDatabaseUrl, adminSql, deleteRedisPrefix, median, redisUrl } from '../lib.js'
import { percentile, postJson } from '../service.js'

// The app as src/server.ts serves it. With `BENCH_QUEUES`, the queues named in it are added to
// the service's queues (as a module adding its own queue would), so their depth is on /metrics.
const apiServer = `
import { createApp } from './dist/app.js'
import { loadConfig } from './dist/config.js'
import { loadConventions } from './dist/conventions.js'
import { createLogger } from './dist/lib/logger.js'
import { modules } from './dist/modules.js'
const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info' }, modules)
const app = await createApp({ config, conventions: loadConventions(), logger: createLogger(config.core), modules })
for (const name of (process.env.BENCH_QUEUES ?? '').split(',').filter(Boolean)) {
  const queue = app.services.queues.queue(name)
  await queue.addBulk(Array.from({ length: 200 }, (_, i) => ({ name: 'bench', data: { i }, opts: { delay: i % 2 ? 60_000 : 0 } })))
}
const server = app.express.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('message', () => process.send(process.cpuUsage()))
`

const metricsToken = 'bench-metrics-token-0123456789'
const scrapes = 200

export const description = `GET /api/posts/:id with vs without observability, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs; GET /metrics with 20 routes and 5 queues, ${scrapes} scrapes`

export async function run() {
  const database = `bench_observability_${process.pid}`
  const prefix = `bench-observability-${process.pid}:`
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${database}`
  const servers = []
  const cleanups = []
  try {
    await adminSql(`create database ${database}`)
    const withIt = builtProject([])
    const without = builtProject(['--without', 'observability'])
    cleanups.push(withIt.cleanup, without.cleanup)
    const migrate = spawnSync(process.execPath, [backendkitBin, 'migrate', 'up'], {
      cwd: withIt.root,
      env: { ...process.env, DATABASE_URL: url.href },
    })
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`)
    const env = {
      DATABASE_URL: url.href,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      QUEUE_PREFIX: `${prefix}bull`,
      JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-0123456789',
      RATE_LIMIT_MAX: '1000000000',
      METRICS_TOKEN: metricsToken,
      METRICS_PORT: '0',
    }
    for (const { root } of [withIt, without]) {
      writeFileSync(path.join(root, 'bench-api.mjs'), apiServer)
    }
    // notifications and webhooks are the service's own; three more queues make five.
    const a = await startServer(withIt.root, 'bench-api.mjs', {
      ...env,
      BENCH_QUEUES: 'reports,emails,imports',
    })
    const b = await startServer(without.root, 'bench-api.mjs', env)
    servers.push(a, b)
    const user = await postJson(`${a.base}/api/auth/register`, {
      email: 'bench@example.com',
      username: 'bench',
      password: 'bench password 1',
    })
    const { accessToken } = await postJson(`${a.base}/api/auth/login`, {
      email: 'bench@example.com',
      password: 'bench password 1',
    })
    const auth = { authorization: `Bearer ${accessToken}` }
    const post = await postJson(
      `${a.base}/api/users/${user.id}/posts`,
      { title: 'A post', body: 'body' },
      auth,
    )
    const r = await compareTargets({
      without: { server: b, url: `${b.base}/api/posts/${post.id}` },
      with: { server: a, url: `${a.base}/api/posts/${post.id}` },
    })

    // Requests on 20 route templates (several ids each: one series per template, not per id).
    const account = await postJson(`${a.base}/api/accounts`, {}, auth)
    const routes = [
      ['GET', '/health/live'],
      ['GET', '/health/ready'],
      ['GET', '/openapi.json'],
      ['GET', '/api/users'],
      ['GET', `/api/users/${user.id}`],
      ['GET', `/api/users/${user.id}/posts`],
      ['GET', '/api/posts'],
      ['GET', `/api/posts/${post.id}`],
      ['GET', `/api/posts/${post.id}/comments`],
      ['POST', `/api/posts/${post.id}/comments`, { body: 'another' }],
      ['PATCH', `/api/posts/${post.id}`, { title: 'Renamed' }],
      ['PATCH', `/api/users/${user.id}`, { username: 'bench_renamed' }],
      ['POST', '/api/auth/login', { email: 'bench@example.com', password: 'wrong password' }],
      ['GET', '/api/notifications'],
      ['GET', '/api/flags'],
      ['GET', `/api/accounts/${account.id}`],
      ['GET', `/api/accounts/${account.id}/events`],
      ['POST', `/api/accounts/${account.id}/deposits`, { amount: 100 }],
      ['POST', `/api/accounts/${account.id}/withdrawals`, { amount: 1 }],
      ['POST', '/api/auth/refresh', { refreshToken: 'not-a-token' }],
    ]
    for (let round = 0; round < 5; round++) {
      for (const [method, route, body] of routes) {
        await fetch(`${a.base}${route}`, {
          method,
          headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        }).then((res) => res.arrayBuffer())
      }
    }
    const scrape = async () => {
      const started = performance.now()
      const res = await fetch(`${a.base}/metrics`, {
        headers: { authorization: `Bearer ${metricsToken}` },
      })
      const text = await res.text()
      if (res.status !== 200) throw new Error(`/metrics: ${res.status}`)
      return { ms: performance.now() - started, text }
    }
    for (let i = 0; i < 20; i++) await scrape() // warm-up
    const times = []
    let exposition = ''
    for (let i = 0; i < scrapes; i++) {
      const { ms, text } = await scrape()
      times.push(ms)
      exposition = text
    }
    const templates = new Set(
      [...exposition.matchAll(/^http_request_duration_seconds_count\{[^}]*route="([^"]*)"/gm)].map(
        (m) => m[1],
      ),
    )
    const queues = new Set([...exposition.matchAll(/^queue_jobs\{queue="([^"]*)"/gm)].map((m) => m[1]))
    const round2 = (ms) => Math.round(ms * 100) / 100
    return {
      withoutObservability: r.without,
      withObservability: { ...r.with, ratio: ratio(r.with.reqPerSec, r.without.reqPerSec) },
      cpuRatio: ratio(r.without.cpuMicrosPerRequest, r.with.cpuMicrosPerRequest),
      target: '>= 0.95x',
      scrape: {
        routeTemplates: templates.size,
        queues: queues.size,
        series: exposition.split('\n').filter((l) => l && !l.startsWith('#')).length,
        bytes: Buffer.byteLength(exposition),
        medianMs: round2(median(times)),
        p99Ms: round2(percentile(times, 99)),
        target: '< 20 ms',
      },
    }
  } finally {
    for (const server of servers) server.child.kill()
    await adminSql(`drop database if exists ${database} with (force)`)
    await deleteRedisPrefix(prefix)
    for (const cleanup of cleanups) cleanup()
  }
}

export function summary(r) {
  const s = r.scrape
  return [
    line('GET /api/posts/:id without', r.withoutObservability),
    `${line('GET /api/posts/:id with', r.withObservability)}   ${r.withObservability.ratio}x (by CPU per request ${r.cpuRatio}x)`,
    `GET /metrics: ${s.routeTemplates} route templates, ${s.queues} queues, ${s.series} series (${s.bytes} bytes): median ${s.medianMs} ms, p99 ${s.p99Ms} ms`,
  ].join('\n')
}
