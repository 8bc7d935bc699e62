import { Router } from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { maintenance } from '../src/maintenance/module.js'
import {
  hashSecret,
  type MaintenanceState,
  maintenanceKey,
  parseMaintenanceState,
} from '../src/maintenance/state.js'
import { defineModule } from '../src/module.js'
import { redis } from '../src/redis/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { useRedisPrefix } from './support/redis.js'
import { TcpProxy } from './support/tcp-proxy.js'

const space = useRedisPrefix()
const key = maintenanceKey(space.prefix)
const secret = 'let-me-in-during-the-migration'

const ping = defineModule({
  name: 'ping',
  env: z.object({}),
  init() {
    const router = Router()
    router.get('/ping', (_req, res) => {
      res.json({ pong: true })
    })
    return { routes: [{ path: '/api', router }] }
  },
})

const modules = [redis, maintenance, ping]

/** Takes the service down the way `backendkit down` does: the key, then the announcement. */
async function down(state: Partial<MaintenanceState> = {}, announce = true): Promise<void> {
  const full: MaintenanceState = {
    since: new Date().toISOString(),
    retryAfter: 120,
    message: 'Upgrading the database',
    secretHash: hashSecret(secret),
    by: 'test',
    ...state,
  }
  await space.redis.set(key, JSON.stringify(full))
  if (announce) await space.redis.publish(key, 'down')
}

async function up(): Promise<void> {
  await space.redis.del(key)
  await space.redis.publish(key, 'up')
}

const get = (app: TestApp, path = '/api/ping', headers: Record<string, string> = {}) =>
  fetch(`${app.url}${path}`, { headers })

async function timeUntil(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<number> {
  const started = performance.now()
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`not true after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return performance.now() - started
}

describe('parseMaintenanceState', () => {
  it.each([
    [null, null],
    ['1', { retryAfter: 60, message: null, secretHash: null }],
    ['{"retryAfter": 30, "message": "soon"}', { retryAfter: 30, message: 'soon' }],
    ['{"retryAfter": -4, "secretHash": "not-a-hash"}', { retryAfter: 60, secretHash: null }],
  ])('%j → %j', (raw, expected) => {
    const state = parseMaintenanceState(raw)
    if (expected === null) expect(state).toBeNull()
    else expect(state).toMatchObject(expected)
  })
})

describe('two running instances', () => {
  let a: TestApp
  let b: TestApp
  beforeAll(async () => {
    ;[a, b] = await Promise.all([
      startApp({ modules, env: space.env }),
      startApp({ modules, env: space.env }),
    ])
  })
  afterAll(async () => {
    await up()
    await Promise.all([a.close(), b.close()])
  })
  // Each test begins with both instances serving.
  afterEach(async () => {
    await up()
    await Promise.all([a, b].map((app) => timeUntil(async () => (await get(app)).status === 200)))
  })

  it('both answer 503 with Retry-After and the error body within a second; probes unaffected', async () => {
    expect((await get(a)).status).toBe(200)
    await down()
    const delays = await Promise.all(
      [a, b].map((app) => timeUntil(async () => (await get(app)).status === 503, 2_000)),
    )
    expect(Math.max(...delays)).toBeLessThan(1_000)
    for (const app of [a, b]) {
      const res = await get(app)
      expect(res.headers.get('retry-after')).toBe('120')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await json<ErrorBody>(res)).toEqual({
        error: { message: 'Upgrading the database', code: 'MAINTENANCE' },
      })
      expect((await get(app, '/health/live')).status).toBe(200)
      // Readiness stays 200: the load balancer keeps sending, so clients get this 503.
      expect((await get(app, '/health/ready')).status).toBe(200)
      expect((await get(app, '/no-such-route')).status).toBe(503)
    }
    await up()
    await Promise.all(
      [a, b].map((app) => timeUntil(async () => (await get(app)).status === 200, 2_000)),
    )
  })

  it('the bypass secret passes in a header, or in the cookie /__maintenance/<secret> sets', async () => {
    await down()
    await timeUntil(async () => (await get(a)).status === 503)
    expect((await get(a, '/api/ping', { 'x-maintenance-bypass': secret })).status).toBe(200)
    expect((await get(a, '/api/ping', { 'x-maintenance-bypass': 'a-wrong-secret' })).status).toBe(
      503,
    )
    expect((await get(a, '/__maintenance/a-wrong-secret')).status).toBe(503)
    const visit = await get(a, `/__maintenance/${secret}`)
    expect(visit.status).toBe(200)
    const cookie = visit.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(
      /^maintenance_bypass=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax/,
    )
    const sent = cookie.split(';')[0] ?? ''
    // The cookie works on every instance: they share the secret.
    expect((await get(b, '/api/ping', { cookie: `theme=dark; ${sent}` })).status).toBe(200)
    expect((await get(b, '/api/ping', { cookie: 'maintenance_bypass=nope' })).status).toBe(503)
  })

  it('without a secret nothing bypasses; the default message and Retry-After apply', async () => {
    await space.redis.set(key, '1') // set by hand: still maintenance, with the defaults
    await space.redis.publish(key, 'down')
    await timeUntil(async () => (await get(b)).status === 503)
    const res = await get(b, '/api/ping', { 'x-maintenance-bypass': secret })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('60')
    expect((await json<ErrorBody>(res)).error.message).toMatch(/down for maintenance/)
  })

  it('reads the key at most once a second per instance, not per request, and without the announcement', async () => {
    const client = a.service('redis').client
    const reads = vi.spyOn(client, 'get')
    try {
      await down({}, false) // no announcement: the once-a-second read finds it
      await timeUntil(async () => (await get(a)).status === 503, 1_500)
      reads.mockClear()
      const started = performance.now()
      await Promise.all(Array.from({ length: 200 }, () => get(a)))
      const seconds = (performance.now() - started) / 1_000
      expect(reads.mock.calls.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1)
    } finally {
      reads.mockRestore()
    }
  })
})

describe('Redis unreachable', () => {
  let proxy: TcpProxy
  let app: TestApp
  beforeAll(async () => {
    proxy = await TcpProxy.start(space.env.REDIS_URL)
    app = await startApp({
      modules,
      env: { ...space.env, REDIS_URL: proxy.url(space.env.REDIS_URL) },
    })
  })
  afterAll(async () => {
    await up()
    await app.close()
    await proxy.close()
  })

  it('the last known state holds: down stays down, serving stays serving', async () => {
    await down()
    await timeUntil(async () => (await get(app)).status === 503)
    await proxy.cut()
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500)) // a failed read or two
      expect((await get(app)).status).toBe(503)
      expect((await get(app, '/api/ping', { 'x-maintenance-bypass': secret })).status).toBe(200)
    } finally {
      await proxy.restore()
    }
    await up()
    await timeUntil(async () => (await get(app)).status === 200)
    await proxy.cut()
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      expect((await get(app)).status).toBe(200)
    } finally {
      await proxy.restore()
    }
  })
})
