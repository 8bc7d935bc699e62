import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { CONNECTIONS, compareTargets, DURATION_S, line, ratio } from '../http.js'
import { median } from '../lib.js'
import { percentile, postJson, servedVariants, signUp } from '../service.js'

// bench/http.js's apiServerScript, and the queues named in `BENCH_QUEUES` added to the service's
// queues (as a module adding its own queue would) with jobs in them, so their depth is on /metrics.
const observedServer = `
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
const rounds = Number(process.env.BENCH_ROUNDS ?? 7)

export const description = `GET /api/posts/:id with vs without observability, ${CONNECTIONS} connections, medians of ${rounds} alternating ${DURATION_S} s runs; GET /metrics with 20 routes and 5 queues, ${scrapes} scrapes`

export async function run() {
  const served = await servedVariants(
    'observability',
    { with: [], without: ['--without', 'observability'] },
    { METRICS_TOKEN: metricsToken },
  )
  try {
    // notifications and webhooks are the service's own; three more queues make five.
    writeFileSync(path.join(served.root('with'), 'bench-observed.mjs'), observedServer)
    const a = await served.start(
      'with',
      { BENCH_QUEUES: 'reports,emails,imports' },
      'bench-observed.mjs',
    )
    const b = await served.start('without')
    const user = await signUp(a.base, 'bench')
    const auth = user.headers
    const post = await postJson(
      `${a.base}/api/users/${user.id}/posts`,
      { title: 'A post', body: 'body' },
      auth,
    )
    // The difference is a few µs in ≈ 130: more rounds than the other suites, to see it.
    const r = await compareTargets(
      {
        without: { server: b, url: `${b.base}/api/posts/${post.id}` },
        with: { server: a, url: `${a.base}/api/posts/${post.id}` },
      },
      { rounds },
    )

    // Requests on 20 route templates (several ids each: one series per template, not per id).
    const account = await postJson(`${a.base}/api/accounts`, {}, auth)
    // One request on each of 20 route templates, answered 2xx or 4xx (health probes are not counted).
    const routes = [
      ['GET', '/openapi.json'],
      ['GET', '/api/users'],
      ['GET', `/api/users/${user.id}`],
      ['GET', `/api/users/${user.id}/posts`],
      ['GET', '/api/posts'],
      ['GET', `/api/posts/${post.id}`],
      ['GET', `/api/posts/${post.id}/comments`],
      ['GET', '/api/notifications'],
      ['GET', '/api/flags'],
      ['POST', '/api/accounts', {}],
      ['GET', `/api/accounts/${account.id}`],
      ['GET', `/api/accounts/${account.id}/events`],
      ['POST', `/api/accounts/${account.id}/deposits`, { amount: 100 }],
      ['POST', `/api/accounts/${account.id}/withdrawals`, { amount: 1 }],
      ['POST', '/api/auth/login', { email: 'bench@example.com', password: 'wrong password' }],
      ['POST', '/api/auth/register', { email: 'bench@example.com', username: 'x', password: 'p' }],
      ['POST', '/api/auth/refresh', { refreshToken: 'not-a-token' }],
      ['POST', '/api/auth/logout', { refreshToken: 'not-a-token' }],
      ['POST', '/api/webhooks/test', {}],
      ['GET', '/api/no-such-route'],
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
    const queues = new Set(
      [...exposition.matchAll(/^queue_jobs\{queue="([^"]*)"/gm)].map((m) => m[1]),
    )
    const middleware = await middlewareCost(served.root('with'))
    const round2 = (ms) => Math.round(ms * 100) / 100
    return {
      withoutObservability: r.without,
      withObservability: { ...r.with, ratio: ratio(r.with.reqPerSec, r.without.reqPerSec) },
      cpuRatio: ratio(r.without.cpuMicrosPerRequest, r.with.cpuMicrosPerRequest),
      target: '>= 0.95x',
      middlewareNsPerRequest: middleware,
      scrape: {
        routeTemplates: templates.size,
        routes: [...templates].sort(),
        queues: queues.size,
        series: exposition.split('\n').filter((l) => l && !l.startsWith('#')).length,
        bytes: Buffer.byteLength(exposition),
        medianMs: round2(median(times)),
        p99Ms: round2(percentile(times, 99)),
        target: '< 20 ms',
      },
    }
  } finally {
    await served.cleanup()
  }
}

/**
 * What the recipe adds to a request, measured alone: its middleware (in-flight gauge, a `close`
 * listener, the histogram observed with three labels) on a request and a response that close
 * at once, in the generated project's own build. Nanoseconds per request, median of 7 runs.
 */
async function middlewareCost(root) {
  const { EventEmitter } = await import('node:events')
  const { observeRequests } = await import(path.join(root, 'dist/observability/http.js'))
  const { Metrics } = await import(path.join(root, 'dist/observability/metrics.js'))
  const metrics = new Metrics(() => [])
  const observe = observeRequests(metrics)
  const route = { path: '/:id' }
  const next = () => {}
  const once = () => {
    const res = new EventEmitter()
    res.statusCode = 200
    res.locals = { mountPath: '/api/posts' }
    observe({ method: 'GET', baseUrl: '/api/posts', route }, res, next)
    res.emit('close')
  }
  const bare = () => {
    const res = new EventEmitter()
    res.statusCode = 200
    res.locals = { mountPath: '/api/posts' }
    res.once('close', next)
    res.emit('close')
  }
  const time = (fn, n) => {
    const started = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn()
    return Number(process.hrtime.bigint() - started) / n
  }
  const samples = []
  for (let run = 0; run < 8; run++) {
    const cost = time(once, 200_000) - time(bare, 200_000)
    if (run > 0) samples.push(cost) // the first run warms the JIT
  }
  return Math.round(median(samples))
}

export function summary(r) {
  const s = r.scrape
  return [
    line('GET /api/posts/:id without', r.withoutObservability),
    `${line('GET /api/posts/:id with', r.withObservability)}   ${r.withObservability.ratio}x (by CPU per request ${r.cpuRatio}x)`,
    `the recipe's middleware alone: ${r.middlewareNsPerRequest} ns per request`,
    `GET /metrics: ${s.routeTemplates} route templates, ${s.queues} queues, ${s.series} series (${s.bytes} bytes): median ${s.medianMs} ms, p99 ${s.p99Ms} ms`,
  ].join('\n')
}
