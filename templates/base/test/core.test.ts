import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { gzipSync } from 'node:zlib'
import { type RequestHandler, Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigError, loadConfig } from '../src/config.js'
import type { ReadinessReport } from '../src/health/readiness.js'
import { AppError, ConflictError } from '../src/lib/errors.js'
import { createLogger } from '../src/lib/logger.js'
import { validate } from '../src/middleware/validate.js'
import { type AppModule, defineModule, type MiddlewareSlot } from '../src/module.js'
import { modules as installedModules } from '../src/modules.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'

/** Adds `slot` to the X-Slots response header: shows the order the chain ran in. */
const mark =
  (slot: MiddlewareSlot): RequestHandler =>
  (_req, res, next) => {
    res.append('x-slots', slot)
    next()
  }

/** A module of the test's own, exercising the module contract end to end. */
let probeHealthy = true
const demo = defineModule({
  name: 'demo',
  env: z.object({ DEMO_GREETING: z.string().default('hello') }),
  init({ env, logger }) {
    const router = Router()
    router.get('/greeting', (_req, res) => {
      logger.info('greeting someone')
      res.json({ greeting: env.DEMO_GREETING })
    })
    router.post(
      '/items/:id',
      validate({
        params: z.strictObject({ id: z.coerce.number().int().positive() }),
        query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
        body: z.strictObject({
          title: z.string().min(1).max(100),
          tags: z.array(z.string()).optional(),
        }),
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
    router.get('/demo-library-error', () => {
      throw Object.assign(new Error('the demo store is full'), { demoCode: 'FULL' })
    })
    router.get('/boom', () => {
      throw new Error('secret internals: select * from users')
    })
    router.get('/posts/:id', (req, res) => {
      res.json({ id: req.params.id })
    })
    return {
      // Listed out of order on purpose: the chain puts each slot in its place.
      middleware: [
        { slot: 'cache', handler: mark('cache') },
        { slot: 'raw-body', handler: mark('raw-body') },
        { slot: 'rate-limit', handler: mark('rate-limit') },
        { slot: 'maintenance', handler: mark('maintenance') },
        { slot: 'auth-context', handler: mark('auth-context') },
        { slot: 'probes', handler: mark('probes'), path: '/demo' },
        // Reads its own (text) body, which the JSON parser after it would refuse with a 415.
        {
          slot: 'raw-body',
          path: '/demo/raw',
          handler: (req, res) => {
            const chunks: Buffer[] = []
            req.on('data', (chunk: Buffer) => chunks.push(chunk))
            req.on('end', () => {
              res.json({
                received: Buffer.concat(chunks).toString(),
                type: req.headers['content-type'],
              })
            })
          },
        },
      ],
      routes: [{ path: '/demo', router }],
      openapi: [
        {
          method: 'get',
          path: '/demo/greeting',
          tag: 'demo',
          summary: 'A greeting',
          responses: { 200: z.object({ greeting: z.string() }) },
        },
      ],
      // This module's library errors, as the client should see them.
      mapError: (error) =>
        (error as { demoCode?: string }).demoCode === 'FULL'
          ? new AppError(507, 'Out of room', { code: 'FULL' })
          : undefined,
      readiness: {
        probe: async () => {
          if (!probeHealthy) throw new Error('connect ECONNREFUSED 10.0.0.7:6379')
        },
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
    captureLogs: true,
  })
})
afterAll(() => server.close())

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })

/** The log lines of one request, found by its id. */
const linesOf = (requestId: string | null) =>
  server
    .logs()
    .filter((line) => line.reqId === requestId || (line.req as { id?: string })?.id === requestId)

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

  it('runs module middleware slot by slot, in the order of src/app.ts, whatever the module lists', async () => {
    const res = await fetch(`${server.url}/demo/greeting`)
    expect(res.headers.get('x-slots')).toBe(
      'probes, maintenance, auth-context, rate-limit, raw-body, cache',
    )
    expect(await res.json()).toEqual({ greeting: 'hi' })
  })

  it('a raw-body handler reads the body itself, before the JSON parser would refuse it', async () => {
    const res = await post('/demo/raw', '42:["message"]', { 'content-type': 'text/plain' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ received: '42:["message"]', type: 'text/plain' })
    expect(res.headers.get('x-slots')).toBe(
      'probes, maintenance, auth-context, rate-limit, raw-body',
    )
    const elsewhere = await post('/demo/items/1', 'title=x', { 'content-type': 'text/plain' })
    expect(elsewhere.status).toBe(415)
  })

  it('a path-scoped middleware runs only under its path; probes are never behind the slots', async () => {
    const outside = await fetch(`${server.url}/nope`)
    expect(outside.headers.get('x-slots')).toBe(
      'maintenance, auth-context, rate-limit, raw-body, cache',
    )
    const probe = await fetch(`${server.url}/health/ready`)
    expect(probe.headers.get('x-slots')).toBeNull()
  })
})

describe('errors are JSON with the right status, never a 500 for bad input', () => {
  it.each([
    ['malformed JSON', '{"title":', {}, 400, 'INVALID_JSON'],
    [
      'a body over the limit',
      JSON.stringify({ title: 'x'.repeat(2_000) }),
      {},
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a non-JSON body',
      'title=x',
      { 'content-type': 'application/x-www-form-urlencoded' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'plain JSON labelled gzip',
      '{"title":"x"}',
      { 'content-encoding': 'gzip' },
      400,
      'INVALID_BODY_ENCODING',
    ],
    [
      'plain JSON labelled br',
      '{"title":"x"}',
      { 'content-encoding': 'br' },
      400,
      'INVALID_BODY_ENCODING',
    ],
    [
      'an unknown Content-Encoding',
      '{"title":"x"}',
      { 'content-encoding': 'zstd-nope' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ])('%s → %d', async (_name, body, headers, status, code) => {
    const res = await post('/demo/items/1', body, headers)
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({ error: { message: expect.any(String), code } })
  })

  it('a real gzip body is read', async () => {
    const res = await post('/demo/items/1', gzipSync(JSON.stringify({ title: 'zipped' })), {
      'content-encoding': 'gzip',
    })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ title: 'zipped' })
  })

  it('a path with a malformed %-escape is a 400, not a URIError 500', async () => {
    const res = await fetch(`${server.url}/demo/posts/%E0%A4%A`)
    expect(res.status).toBe(400)
    expect((await json<ErrorBody>(res)).error.code).toBe('INVALID_URL')
  })

  it.each([
    ['a field', { title: 'a\u0000b' }, 'body.title'],
    ['an array item', { title: 'ok', tags: ['x', 'y\u0000'] }, 'body.tags.1'],
  ])('a NUL character in %s is a 422 naming where', async (_name, body, path) => {
    const res = await post('/demo/items/1', JSON.stringify(body))
    expect(res.status).toBe(422)
    expect((await json<ErrorBody>(res)).error.details).toContainEqual(
      expect.objectContaining({ path }),
    )
  })

  it('a NUL character in the query is a 422 too', async () => {
    const res = await post('/demo/items/1?dryRun=tr%00ue', JSON.stringify({ title: 'x' }))
    expect(res.status).toBe(422)
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

  it("a module maps its own library's errors", async () => {
    const res = await fetch(`${server.url}/demo/demo-library-error`)
    expect(res.status).toBe(507)
    expect(await res.json()).toEqual({ error: { message: 'Out of room', code: 'FULL' } })
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

describe('logs', () => {
  it('a bug (500) is logged at error with its stack; an expected 4xx at info without one', async () => {
    const boom = await fetch(`${server.url}/demo/boom`)
    const [bug] = linesOf(boom.headers.get('x-request-id'))
    expect(bug).toMatchObject({ level: 50, err: { message: expect.stringContaining('secret') } })
    expect((bug?.err as { stack?: string } | undefined)?.stack).toContain('core.test.ts')

    const conflict = await fetch(`${server.url}/demo/conflict`)
    const [expected] = linesOf(conflict.headers.get('x-request-id'))
    expect(expected).toMatchObject({ level: 30, res: { statusCode: 409, code: 'CONFLICT' } })
    expect(expected?.err).toBeUndefined()
  })

  it('an unavailable dependency is logged at warn with its cause, without a stack', async () => {
    const res = await fetch(`${server.url}/demo/dependency-down`)
    const [line] = linesOf(res.headers.get('x-request-id'))
    expect(line).toMatchObject({
      level: 40,
      err: { message: expect.stringContaining('ECONNREFUSED') },
    })
    expect((line?.err as { stack?: string } | undefined)?.stack).toBeFalsy()
  })

  it("a module's log line written while serving a request carries the request's id", async () => {
    const res = await fetch(`${server.url}/demo/greeting`, {
      headers: { 'x-request-id': 'trace-me-1' },
    })
    expect(res.status).toBe(200)
    const lines = linesOf('trace-me-1')
    expect(lines).toContainEqual(
      expect.objectContaining({ module: 'demo', msg: 'greeting someone' }),
    )
  })

  it('redacts credentials from every log line the service writes', () => {
    const lines: string[] = []
    const logger = createLogger(
      { LOG_LEVEL: 'info', NODE_ENV: 'test' },
      { write: (line: string) => void lines.push(line) },
    )
    logger.info(
      {
        password: 'hunter2',
        currentPassword: 'hunter1',
        user: { id: 1, passwordHash: '$argon2id$abc' },
        token: 'eyJ',
        req: { headers: { authorization: 'Bearer eyJsecret', cookie: 'refresh_token=r3fr' } },
      },
      'login',
    )
    const line = lines.join('')
    for (const secret of ['hunter2', 'hunter1', '$argon2id$abc', 'eyJ', 'r3fr']) {
      expect(line).not.toContain(secret)
    }
    expect(line).toContain('"id":1')
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

  it('ready is 503 naming the failing check but not its error (it names internal hosts), and recovers', async () => {
    probeHealthy = false
    const res = await fetch(`${server.url}/health/ready`)
    expect(res.status).toBe(503)
    const text = await res.text()
    expect(JSON.parse(text).checks.probe).toEqual({ status: 'down', latencyMs: expect.any(Number) })
    expect(text).not.toContain('10.0.0.7')
    // The reason goes to the log instead, once per outage.
    expect(server.logs()).toContainEqual(
      expect.objectContaining({ check: 'probe', msg: 'readiness check down' }),
    )
    probeHealthy = true
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200)
  })
})

describe('GET /openapi.json', () => {
  it("collects every module's operations, with the health probes", async () => {
    const doc = await json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      await fetch(`${server.url}/openapi.json`),
    )
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health/live', '/health/ready', '/demo/greeting']),
    )
    expect(doc.paths['/demo/greeting']?.get).toMatchObject({ operationId: 'getDemoGreeting' })
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

  it('.env.example is a valid configuration for every installed module', () => {
    const example = parseEnv(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'))
    expect(() => loadConfig(example, installedModules)).not.toThrow()
  })
})

describe('modules stop on close', () => {
  it("calls each module's stop hook, once, when the app stops", async () => {
    let stops = 0
    const stoppable = defineModule({
      name: 'stoppable',
      env: z.object({}),
      init: () => ({
        stop: async () => {
          stops++
        },
      }),
    })
    const other = await startApp({ modules: [stoppable] })
    expect(stops).toBe(0)
    await other.close()
    expect(stops).toBe(1)
  })
})
