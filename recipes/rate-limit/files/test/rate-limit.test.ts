import { type RequestHandler, Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineModule } from '../src/module.js'
import { rateLimiting } from '../src/rate-limit/module.js'
import { SlidingWindow } from '../src/rate-limit/sliding-window.js'
import { redis } from '../src/redis/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { useRedisPrefix } from './support/redis.js'
import { TcpProxy } from './support/tcp-proxy.js'

const space = useRedisPrefix()

/** Stands in for the auth context: `X-Test-User: <id>` signs the request in as that user. */
const signIn: RequestHandler = (req, _res, next) => {
  const id = req.headers['x-test-user']
  if (typeof id === 'string') req.user = { id, role: 'user' } as Express.User
  next()
}

/** /api/ping (policy `default`, as every /api route) and /api/login (policy `auth` too). */
const demo = defineModule({
  name: 'demo',
  env: z.object({}),
  init({ services }) {
    const router = Router()
    router.get('/ping', (_req, res) => {
      res.json({ pong: true })
    })
    router.post(
      '/login',
      services.limits.limit('auth', { also: (req) => `account:${req.body.email}` }),
      (_req, res) => {
        res.json({ ok: true })
      },
    )
    return {
      middleware: [{ slot: 'auth-context', handler: signIn }],
      routes: [{ path: '/api', router }],
    }
  },
})

const modules = [redis, rateLimiting, demo]
let counter = 0
/** A user of this test's own: its quota is untouched. */
const freshUser = () => ({ 'x-test-user': `u${Date.now()}-${counter++}` })

async function start(env: Record<string, string> = {}, redisUrl?: string): Promise<TestApp> {
  return startApp({
    modules,
    env: {
      ...space.env,
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_S: '60',
      AUTH_RATE_LIMIT_MAX: '3',
      ...env,
    },
    captureLogs: true,
  })
}

const ping = (app: TestApp, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/api/ping`, { headers })
const login = (app: TestApp, email: string, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email }),
  })

describe('the default policy', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await start()
  })
  afterAll(() => app.close())

  it('says the policy and what is left in the IETF headers, then refuses with 429 and Retry-After', async () => {
    const user = freshUser()
    for (let i = 0; i < 5; i++) {
      const res = await ping(app, user)
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60')
      expect(res.headers.get('ratelimit')).toMatch(new RegExp(`^"default";r=${4 - i};t=(60|59)$`))
    }
    const refused = await ping(app, user)
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(50)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(refused.headers.get('ratelimit')).toBe(`"default";r=0;t=${retryAfter}`)
    expect(await json<ErrorBody>(refused)).toEqual({
      error: { message: expect.any(String), code: 'rate_limited' },
    })
  })

  it('counts a signed-in user on their own, and an anonymous client by its address', async () => {
    const user = freshUser()
    for (let i = 0; i < 5; i++) await ping(app, user)
    expect((await ping(app, user)).status).toBe(429)
    expect((await ping(app, freshUser())).status).toBe(200)
  })

  it('only limits /api', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${app.url}/health/live`)).status).toBe(200)
    }
  })

  it('publishes its policies to Redis, so the operator sees the limits', async () => {
    // A prefix of its own: the other tests' apps publish their own policies.
    const prefix = `${space.prefix}policies:`
    const own = await startApp({
      modules,
      env: {
        ...space.env,
        REDIS_KEY_PREFIX: prefix,
        RATE_LIMIT_MAX: '5',
        AUTH_RATE_LIMIT_MAX: '3',
      },
    })
    try {
      expect(await space.redis.hgetall(`${prefix}rl-policies`)).toEqual({
        default: JSON.stringify({ q: 5, w: 60 }),
        auth: JSON.stringify({ q: 3, w: 900 }),
      })
    } finally {
      await own.close()
    }
  })
})

describe('exactness', () => {
  it('200 concurrent requests through two instances: exactly the limit succeed, 20 runs in a row', async () => {
    const env = { RATE_LIMIT_MAX: '50' }
    const [a, b] = [await start(env), await start(env)]
    try {
      for (let run = 0; run < 20; run++) {
        const user = freshUser()
        const statuses = await Promise.all(
          Array.from({ length: 200 }, (_, i) => ping(i % 2 ? a : b, user).then((r) => r.status)),
        )
        expect(statuses.filter((s) => s === 200)).toHaveLength(50)
        expect(statuses.filter((s) => s === 429)).toHaveLength(150)
      }
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('a burst inside one millisecond is counted whole: every request is its own entry', async () => {
    const app = await start()
    try {
      const window = new SlidingWindow(app.service('redis').client)
      const key = `${space.prefix}rl:burst:test`
      const results = await Promise.all(
        Array.from({ length: 100 }, () => window.hit([key], 1_000, 60_000)),
      )
      expect(results.every((r) => r.admitted)).toBe(true)
      const entries = await space.redis.zrange(key, '0', '-1', 'WITHSCORES')
      const scores = new Set(entries.filter((_, i) => i % 2 === 1))
      expect(entries.length / 2).toBe(100)
      expect(scores.size).toBeLessThan(100) // many of them shared a millisecond
    } finally {
      await app.close()
    }
  })

  it('the requests of one turn are counted by one call, one by one: exactly the room is admitted', async () => {
    const app = await start()
    try {
      const window = new SlidingWindow(app.service('redis').client)
      const key = `${space.prefix}rl:batch:test`
      await window.hit([key], 10, 60_000) // one entry already in the window
      const results = await Promise.all(
        Array.from({ length: 25 }, () => window.hit([key], 10, 60_000)),
      )
      const admitted = results.filter((r) => r.admitted)
      expect(admitted.map((r) => r.remaining)).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0])
      const refused = results.filter((r) => !r.admitted)
      expect(refused).toHaveLength(16)
      for (const r of refused) {
        expect(r.remaining).toBe(0)
        expect(r.resetMs).toBeGreaterThan(59_000) // the first entry leaves the window in ~60 s
      }
      expect(await space.redis.zcard(key)).toBe(10)
      // Another identity in the same turn is a call of its own, and is not counted with these.
      const other = `${space.prefix}rl:batch:other`
      const [a, b] = await Promise.all([
        window.hit([key], 10, 60_000),
        window.hit([other], 10, 60_000),
      ])
      expect(a?.admitted).toBe(false)
      expect(b).toMatchObject({ admitted: true, remaining: 9 })
    } finally {
      await app.close()
    }
  })
})

describe("an operator's reset", () => {
  it('frees a refused identity at once on every instance, local refusals included', async () => {
    const [a, b] = [await start(), await start()]
    try {
      const user = freshUser()
      for (let i = 0; i < 5; i++) await ping(a, user)
      // Both instances now refuse without asking Redis (a local block until the reset time).
      expect((await ping(a, user)).status).toBe(429)
      expect((await ping(b, user)).status).toBe(429)
      // What `backendkit ratelimit reset user:<id>` does: delete the key, announce the reset.
      const identity = `user:${user['x-test-user']}`
      await space.redis.del(`${space.prefix}rl:default:${identity}`)
      await space.redis.publish(
        `${space.prefix}rl-reset`,
        JSON.stringify({ policy: null, identities: [identity] }),
      )
      for (const app of [a, b]) {
        let status = 0
        for (let i = 0; i < 40 && status !== 200; i++) {
          status = (await ping(app, user)).status
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 25))
        }
        expect(status).toBe(200)
      }
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})

describe('the client address', () => {
  it('ignores X-Forwarded-For without TRUST_PROXY: rotating it does not reset the quota', async () => {
    const app = await start({ TRUST_PROXY: '0' })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 8; i++) {
        const res = await ping(app, { 'x-forwarded-for': `198.51.100.${i}` })
        statuses.push(res.status)
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    } finally {
      await app.close()
    }
  })

  it('with TRUST_PROXY=1 each client behind the proxy has its own quota', async () => {
    const app = await start({ TRUST_PROXY: '1' })
    try {
      for (let i = 0; i < 8; i++) {
        const res = await ping(app, { 'x-forwarded-for': `203.0.113.${i}` })
        expect(res.status).toBe(200)
      }
    } finally {
      await app.close()
    }
  })
})

describe('the auth policy', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await start({ TRUST_PROXY: '1', RATE_LIMIT_MAX: '1000' })
  })
  afterAll(() => app.close())

  it('limits guesses per account, from any client address', async () => {
    const email = `victim-${Date.now()}@example.com`
    for (let i = 0; i < 3; i++) {
      const res = await login(app, email, { 'x-forwarded-for': `192.0.2.${i}` })
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=1000;w=60, "auth";q=3;w=900')
    }
    expect((await login(app, email, { 'x-forwarded-for': '192.0.2.99' })).status).toBe(429)
  })

  it('limits one client across accounts', async () => {
    const client = { 'x-forwarded-for': `192.0.2.${100 + (counter++ % 100)}` }
    for (let i = 0; i < 3; i++) {
      expect((await login(app, `a${i}-${Date.now()}@example.com`, client)).status).toBe(200)
    }
    expect((await login(app, `another-${Date.now()}@example.com`, client)).status).toBe(429)
  })
})

describe('Redis unreachable', () => {
  let proxy: TcpProxy
  beforeAll(async () => {
    proxy = await TcpProxy.start(space.env.REDIS_URL)
  })
  afterAll(() => proxy.close())

  it('default: lets requests through (logged once); auth: refuses with 503; back: limits again', async () => {
    const app = await start({}, proxy.url(space.env.REDIS_URL))
    try {
      const user = freshUser()
      expect((await ping(app, user)).status).toBe(200)
      await proxy.cut()
      // Open, but not unlimited: each instance's token bucket still holds a client to the quota.
      for (let i = 0; i < 4; i++) {
        const res = await ping(app, user)
        expect(res.status).toBe(200)
        expect(res.headers.get('ratelimit')).toBeNull()
      }
      expect((await ping(app, user)).status).toBe(429)
      const auth = await login(app, 'someone@example.com')
      expect(auth.status).toBe(503)
      expect(auth.headers.get('retry-after')).toBeTruthy()
      const warnings = app.logs().filter((l) => l.msg === 'rate limit store unreachable')
      expect(warnings).toHaveLength(2) // once per policy, not once per request

      await proxy.restore()
      for (let i = 0; i < 100 && (await fetch(`${app.url}/health/ready`)).status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const counted = await ping(app, freshUser())
      expect(counted.status).toBe(200)
      expect(counted.headers.get('ratelimit')).toBe('"default";r=4;t=60') // in Redis again
      expect(app.logs().some((l) => l.msg === 'rate limit store reachable again')).toBe(true)
    } finally {
      await proxy.restore().catch(() => {})
      await app.close()
    }
  })

  it('RATE_LIMIT_ON_STORE_ERROR=closed refuses with 503 instead', async () => {
    const app = await start({ RATE_LIMIT_ON_STORE_ERROR: 'closed' }, proxy.url(space.env.REDIS_URL))
    try {
      await proxy.cut()
      const res = await ping(app, freshUser())
      expect(res.status).toBe(503)
      expect((await json<ErrorBody>(res)).error.code).toBe('SERVICE_UNAVAILABLE')
    } finally {
      await proxy.restore()
      await app.close()
    }
  })

  it('an identity Redis refused stays refused locally until its reset, even with Redis gone', async () => {
    const app = await start({}, proxy.url(space.env.REDIS_URL))
    try {
      const user = freshUser()
      for (let i = 0; i < 5; i++) await ping(app, user)
      await proxy.cut()
      const res = await ping(app, user)
      expect(res.status).toBe(429)
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(50)
    } finally {
      await proxy.restore()
      await app.close()
    }
  })
})
