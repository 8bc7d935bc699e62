import { once } from 'node:events'
import net from 'node:net'
import { Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { loadConfig } from '../src/config.js'
import { loadConventions } from '../src/conventions.js'
import { ForbiddenError } from '../src/lib/errors.js'
import { createLogger } from '../src/lib/logger.js'
import { defineModule } from '../src/module.js'
import { observability } from '../src/observability/module.js'
import { startModules } from '../src/runtime.js'
import { startApp, type TestApp } from './support/app.js'
import { freePort } from './support/process.js'

/** A module with a templated route and a gauge of its own. */
let depth = 3
const demo = defineModule({
  name: 'demo',
  env: z.object({}),
  init() {
    const router = Router()
    router.get('/items/:id', (req, res) => {
      res.json({ id: req.params.id })
    })
    router.get('/', (_req, res) => {
      res.json({ items: [] })
    })
    // Answered by the error handler, after the request has left this router.
    router.delete('/items/:id', () => {
      throw new ForbiddenError('Items are kept')
    })
    return {
      routes: [{ path: '/api', router }],
      gauges: [
        {
          name: 'demo_queue_jobs',
          help: 'Jobs in the demo queue by state',
          labelNames: ['state'],
          collect: () => [
            { labels: { state: 'waiting' }, value: depth },
            { labels: { state: 'failed' }, value: 1 },
          ],
        },
      ],
    }
  },
})

const token = 'a-metrics-token-long-enough'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/**
 * Parses the Prometheus text format (0.0.4) strictly enough to fail on a malformed line, a
 * metric declared twice, or a sample of an undeclared metric. (prom-client writes NaN as `Nan`,
 * which Prometheus reads, as it parses floats case-insensitively.)
 */
function parseExposition(text: string): { samples: Sample[]; helps: string[]; types: string[] } {
  const helps: string[] = []
  const types: string[] = []
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line)
    if (comment) {
      ;(comment[1] === 'HELP' ? helps : types).push(comment[2] as string)
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|NaN|Nan|\+Inf|-Inf)$/.exec(
      line,
    )
    if (!sample) throw new Error(`not a Prometheus line: ${line}`)
    const labels = Object.fromEntries(
      [...(sample[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    )
    samples.push({ name: sample[1] as string, labels, value: Number(sample[4]) })
  }
  return { samples, helps, types }
}

const metricsOf = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(await res.text())
}

describe('GET /metrics on the API port, behind METRICS_TOKEN', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ modules: [observability, demo], env: { METRICS_TOKEN: token } })
  })
  afterAll(() => app.close())

  it('is refused without the token, or with a wrong one', async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401)
    const wrong = await fetch(`${app.url}/metrics`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    })
    expect(wrong.status).toBe(401)
    expect(await wrong.text()).not.toContain('http_request')
  })

  it('is one valid exposition: each metric declared once, every sample of a declared metric', async () => {
    await fetch(`${app.url}/api/items/1`)
    const { helps, types, samples } = await metricsOf(`${app.url}/metrics`, {
      authorization: `Bearer ${token}`,
    })
    expect(new Set(helps).size).toBe(helps.length)
    expect(new Set(types).size).toBe(types.length)
    const declared = new Set(types)
    for (const sample of samples) {
      const family = sample.name.replace(/_(bucket|sum|count|total|created)$/, '')
      expect(declared.has(sample.name) || declared.has(family), sample.name).toBe(true)
    }
    expect(helps).toEqual(
      expect.arrayContaining([
        'http_request_duration_seconds',
        'http_requests_in_flight',
        'demo_queue_jobs',
        'process_cpu_user_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]),
    )
  })

  it('labels requests by route template: a thousand ids are one series', async () => {
    for (let i = 0; i < 1_000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => fetch(`${app.url}/api/items/id-${i + j}`)),
      )
    }
    await fetch(`${app.url}/nowhere/${Date.now()}`)
    const { samples } = await metricsOf(`${app.url}/metrics`, { authorization: `Bearer ${token}` })
    const counts = samples.filter((s) => s.name === 'http_request_duration_seconds_count')
    const items = counts.filter(
      (s) => s.labels.route === '/api/items/:id' && s.labels.method === 'GET',
    )
    expect(items).toHaveLength(1)
    expect(items[0]?.labels).toEqual({ method: 'GET', route: '/api/items/:id', status_code: '200' })
    expect(items[0]?.value).toBeGreaterThanOrEqual(1_000)
    expect(
      counts.some((s) => s.labels.route === '(unmatched)' && s.labels.status_code === '404'),
    ).toBe(true)
    expect(counts.every((s) => !String(s.labels.route).includes('id-'))).toBe(true)
  })

  it('an error answered by the error handler keeps its route template; a router root is its mount', async () => {
    const res = await fetch(`${app.url}/api/items/id-1`, { method: 'DELETE' })
    expect(res.status).toBe(403)
    expect((await fetch(`${app.url}/api`)).status).toBe(200)
    const { samples } = await metricsOf(`${app.url}/metrics`, { authorization: `Bearer ${token}` })
    expect(samples).toContainEqual(
      expect.objectContaining({
        name: 'http_request_duration_seconds_count',
        labels: { method: 'GET', route: '/api', status_code: '200' },
      }),
    )
    expect(samples).toContainEqual({
      name: 'http_request_duration_seconds_count',
      labels: { method: 'DELETE', route: '/api/items/:id', status_code: '403' },
      value: 1,
    })
  })

  it("collects each module's gauges at scrape time", async () => {
    depth = 7
    const { samples } = await metricsOf(`${app.url}/metrics`, { authorization: `Bearer ${token}` })
    expect(samples).toContainEqual({
      name: 'demo_queue_jobs',
      labels: { state: 'waiting' },
      value: 7,
    })
    expect(samples).toContainEqual({
      name: 'demo_queue_jobs',
      labels: { state: 'failed' },
      value: 1,
    })
  })
})

describe('the metrics port', () => {
  it('serves /metrics apart from the API; without a token the API port has no /metrics', async () => {
    const port = await freePort()
    const app = await startApp({
      modules: [observability, demo],
      env: { METRICS_PORT: String(port) },
    })
    try {
      expect((await fetch(`${app.url}/metrics`)).status).toBe(404)
      const { helps } = await metricsOf(`http://127.0.0.1:${port}/metrics`)
      expect(helps).toContain('demo_queue_jobs')
      expect((await fetch(`http://127.0.0.1:${port}/anything`)).status).toBe(404)
    } finally {
      await app.close()
    }
    // Closed with the app.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
  })

  it('asks for the token too when one is set', async () => {
    const port = await freePort()
    const app = await startApp({
      modules: [observability, demo],
      env: { METRICS_PORT: String(port), METRICS_TOKEN: token },
    })
    try {
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401)
      await metricsOf(`http://127.0.0.1:${port}/metrics`, { authorization: `Bearer ${token}` })
    } finally {
      await app.close()
    }
  })

  it('the worker serves its own metrics on its metrics port, with no HTTP API', async () => {
    const port = await freePort()
    const modules = [observability, demo]
    const config = loadConfig({ NODE_ENV: 'test', METRICS_PORT: String(port) }, modules)
    const worker = await startModules({
      role: 'worker',
      config,
      conventions: loadConventions(),
      logger: createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' }),
      modules,
    })
    try {
      const { helps } = await metricsOf(`http://127.0.0.1:${port}/metrics`)
      expect(helps).toContain('demo_queue_jobs')
      expect(helps).toContain('process_cpu_user_seconds_total')
    } finally {
      await worker.stop()
    }
  })

  it('a metrics port already taken does not stop the service; the log says so', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1')
    await once(taken, 'listening')
    const port = (taken.address() as net.AddressInfo).port
    try {
      const app = await startApp({
        modules: [observability, demo],
        env: { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' },
        captureLogs: true,
      })
      try {
        expect((await fetch(`${app.url}/api/items/1`)).status).toBe(200)
        expect(app.logs()).toContainEqual(
          expect.objectContaining({
            level: 50,
            msg: expect.stringMatching(/metrics port unavailable/),
          }),
        )
      } finally {
        await app.close()
      }
    } finally {
      taken.close()
    }
  })

  it('refuses a token shorter than 16 characters at start', async () => {
    await expect(
      startApp({ modules: [observability], env: { METRICS_TOKEN: 'short' } }),
    ).rejects.toThrow(/METRICS_TOKEN/)
  })
})
