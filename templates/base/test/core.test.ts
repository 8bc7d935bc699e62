import { Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigError, loadConfig } from '../src/config.js'
import type { ReadinessReport } from '../src/health/readiness.js'
import { ConflictError } from '../src/lib/errors.js'
import { validate } from '../src/middleware/validate.js'
import { type AppModule, defineModule } from '../src/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'

/** A module of the test's own, exercising the module contract end to end. */
let probeHealthy = true
const stopped: string[] = []
const demo = defineModule({
  name: 'demo',
  env: z.object({ DEMO_GREETING: z.string().default('hello') }),
  init({ env }) {
    const router = Router()
    router.get('/greeting', (_req, res) => {
      res.json({ greeting: env.DEMO_GREETING })
    })
    router.post(
      '/items/:id',
      validate({
        params: z.strictObject({ id: z.coerce.number().int().positive() }),
        query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
        body: z.strictObject({ title: z.string().min(1).max(100) }),
      }),
      (req, res) => {
        res.status(201).json({ id: req.params.id, title: req.body.title, query: req.query })
      },
    )
    router.get('/conflict', () => {
      throw new ConflictError('Already there')
    })
    router.get('/dependency-down', () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
        code: 'ECONNREFUSED',
      })
    })
    router.get('/boom', () => {
      throw new Error('secret internals: select * from users')
    })
    router.get('/slow', async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 300))
      res.json({ done: true })
    })
    return {
      middleware: [
        {
          stage: 'before-parsing',
          handler: (_req, res, next) => {
            res.setHeader('x-demo-stage', 'before-parsing')
            next()
          },
        },
      ],
      routes: [{ path: '/demo', router }],
      readiness: {
        probe: async () => {
          if (!probeHealthy) throw new Error('probe is down')
        },
      },
      stop: async () => {
        stopped.push('demo')
      },
    }
  },
})

// Only the demo module: the chain is tested on its own; each installed module has its own tests.
const modules: AppModule[] = [demo]
let server: TestApp

beforeAll(async () => {
  server = await startApp({
    modules,
    env: { DEMO_GREETING: 'hi', CORS_ORIGINS: 'https://app.example', BODY_LIMIT: '1kb' },
  })
})
afterAll(() => server.close())

const post = (path: string, body: string, contentType = 'application/json') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body })

describe('the middleware chain', () => {
  it('gives each request an id, keeps a well-formed incoming one, replaces a bad one', async () => {
    const fresh = await fetch(`${server.url}/health/live`)
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const kept = await fetch(`${server.url}/health/live`, {
      headers: { 'x-request-id': 'abc-123' },
    })
    expect(kept.headers.get('x-request-id')).toBe('abc-123')
    const bad = await fetch(`${server.url}/health/live`, {
      headers: { 'x-request-id': 'a b<script>' },
    })
    expect(bad.headers.get('x-request-id')).not.toBe('a b<script>')
  })

  it('sends security headers and no X-Powered-By', async () => {
    const res = await fetch(`${server.url}/demo/greeting`)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('strict-transport-security')).toContain('max-age=')
    expect(res.headers.get('x-powered-by')).toBeNull()
  })

  it('allows CORS only for the configured origins', async () => {
    const allowed = await fetch(`${server.url}/demo/greeting`, {
      headers: { origin: 'https://app.example' },
    })
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const other = await fetch(`${server.url}/demo/greeting`, {
      headers: { origin: 'https://evil.example' },
    })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('grants no cross-origin access when no origin is configured', async () => {
    const closed = await startApp({ modules })
    try {
      const res = await fetch(`${closed.url}/demo/greeting`, {
        headers: { origin: 'https://app.example' },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await closed.close()
    }
  })

  it('runs module middleware at its stage and mounts module routes with their config', async () => {
    const res = await fetch(`${server.url}/demo/greeting`)
    expect(res.headers.get('x-demo-stage')).toBe('before-parsing')
    expect(await res.json()).toEqual({ greeting: 'hi' })
  })
})

describe('errors are JSON with the right status, never a 500 for bad input', () => {
  it.each([
    ['malformed JSON', '{"title":', 'application/json', 400, 'INVALID_JSON'],
    [
      'a body over the limit',
      JSON.stringify({ title: 'x'.repeat(2_000) }),
      'application/json',
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a non-JSON body',
      'title=x',
      'application/x-www-form-urlencoded',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ])('%s → %d', async (_name, body, type, status, code) => {
    const res = await post('/demo/items/1', body, type)
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({ error: { message: expect.any(String), code } })
  })

  it('validation failures are 422 with every problem; unknown keys are rejected', async () => {
    const res = await post(
      '/demo/items/abc?dryRun=maybe&extra=1',
      JSON.stringify({ title: '', role: 'admin' }),
    )
    expect(res.status).toBe(422)
    const body = await json<ErrorBody>(res)
    expect(body.error.code).toBe('VALIDATION_FAILED')
    const paths = body.error.details?.map((d) => d.path)
    expect(paths).toEqual(
      expect.arrayContaining(['params.id', 'query.dryRun', 'query', 'body.title', 'body']),
    )
  })

  it('valid input reaches the handler parsed', async () => {
    const res = await post('/demo/items/7?dryRun=true', JSON.stringify({ title: 'Hello' }))
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ id: 7, title: 'Hello', query: { dryRun: 'true' } })
  })

  it('operational errors keep their status and message', async () => {
    const res = await fetch(`${server.url}/demo/conflict`)
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ error: { message: 'Already there', code: 'CONFLICT' } })
  })

  it('an unexpected error is a bare 500: no message, stack or SQL reaches the client', async () => {
    const res = await fetch(`${server.url}/demo/boom`)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({
      error: { message: 'Internal server error', code: 'INTERNAL' },
    })
    expect(text).not.toContain('select')
  })

  it('an unreachable dependency is a 503 with Retry-After, not a 500', async () => {
    const res = await fetch(`${server.url}/demo/dependency-down`)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    const text = await res.text()
    expect(JSON.parse(text).error.code).toBe('SERVICE_UNAVAILABLE')
    expect(text).not.toContain('5432')
  })

  it('an unknown route is a JSON 404', async () => {
    const res = await fetch(`${server.url}/nope`)
    expect(res.status).toBe(404)
    expect((await json<ErrorBody>(res)).error.code).toBe('NOT_FOUND')
  })
})

describe('health', () => {
  it('live answers without I/O; ready reports each check', async () => {
    expect(await (await fetch(`${server.url}/health/live`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${server.url}/health/ready`)
    expect(ready.status).toBe(200)
    const report = await json<ReadinessReport>(ready)
    expect(report.status).toBe('ok')
    expect(report.checks.probe).toEqual({ status: 'up', latencyMs: expect.any(Number) })
  })

  it('ready is 503 naming the failing check, and recovers', async () => {
    probeHealthy = false
    const res = await fetch(`${server.url}/health/ready`)
    expect(res.status).toBe(503)
    expect((await json<ReadinessReport>(res)).checks.probe).toMatchObject({
      status: 'down',
      error: 'probe is down',
    })
    probeHealthy = true
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200)
  })
})

describe('configuration', () => {
  it('names every missing or malformed variable at once', () => {
    const attempt = () =>
      loadConfig({ PORT: 'eighty', CORS_ORIGINS: 'not a url', BODY_LIMIT: 'lots' }, [])
    expect(attempt).toThrow(ConfigError)
    try {
      attempt()
    } catch (error) {
      const message = (error as ConfigError).message
      expect(message).toMatch(/PORT/)
      expect(message).toMatch(/CORS_ORIGINS/)
      expect(message).toMatch(/BODY_LIMIT/)
    }
  })

  it('applies defaults', () => {
    const { core } = loadConfig({}, [])
    expect(core).toMatchObject({ PORT: 3000, BODY_LIMIT: '100kb', CORS_ORIGINS: [] })
  })
})

describe('modules stop on close', () => {
  it('calls each stop hook', async () => {
    const other = await startApp({ modules })
    await other.close()
    expect(stopped).toContain('demo')
  })
})

describe('logging', () => {
  it('redacts credentials from log lines', async () => {
    const { Writable } = await import('node:stream')
    const { pino } = await import('pino')
    const { redactedPaths } = await import('../src/lib/logger.js')
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const logger = pino({ redact: { paths: redactedPaths, censor: '[redacted]' } }, sink)
    logger.info(
      { password: 'hunter2', user: { id: 1, passwordHash: '$2b$12$abc' }, token: 'eyJ' },
      'login',
    )
    const line = lines.join('')
    expect(line).not.toContain('hunter2')
    expect(line).not.toContain('$2b$12$abc')
    expect(line).not.toContain('eyJ')
    expect(line).toContain('"id":1')
  })
})
