import { createHmac } from 'node:crypto'
import { Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { AccessTokens } from '../src/auth/access-tokens.js'
import { requireAuth } from '../src/auth/middleware.js'
import { auth } from '../src/auth/module.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { database } from '../src/db/module.js'
import { defineModule } from '../src/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { authTestEnv, bearer, post, refreshCookieOf, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'

const db = useTestDatabase()

/** GET /me: who the access token says the caller is (requireAuth). */
const me = defineModule({
  name: 'me',
  env: z.object({}),
  init() {
    const router = Router()
    router.get('/', requireAuth, (req, res) => {
      res.json(req.user)
    })
    return { routes: [{ path: '/me', router }] }
  },
})

/** Records which rate-limit policy guards each request, for whom (the rate-limit recipe enforces it). */
const guarded: string[] = []
const recordingLimits = defineModule({
  name: 'recording-limits',
  env: z.object({}),
  init: () => ({
    services: {
      limits: {
        limit: (policy, options) => (req, _res, next) => {
          guarded.push(`${policy} ${options?.also?.(req) ?? '-'}`)
          next()
        },
      },
    },
  }),
})

const modules = [recordingLimits, database, auth, me]

/** A verifier configured like the app under test. */
const verifier = () =>
  new AccessTokens({
    secret: authTestEnv.JWT_SECRET,
    issuer: authTestEnv.JWT_ISSUER,
    audience: authTestEnv.JWT_AUDIENCE,
    ttlSeconds: 900,
  })
let app: TestApp
let url: string

beforeAll(async () => {
  app = await startApp({ modules, env: { DATABASE_URL: db.url, ...authTestEnv } })
  url = app.url
})
afterAll(() => app.close())

describe('register', () => {
  it('creates a user: 201 with id, email, username, role and nothing secret', async () => {
    const res = await post(`${url}/api/auth/register`, {
      email: 'Reg@Example.com',
      username: 'reg_1',
      password: 'correct horse battery',
    })
    expect(res.status).toBe(201)
    const body = await res.text()
    expect(JSON.parse(body)).toEqual({
      id: expect.any(String),
      email: 'Reg@Example.com',
      username: 'reg_1',
      role: 'user',
    })
    expect(body).not.toMatch(/argon2|password/i)
  })

  it('409 for an email already registered, whatever its case', async () => {
    const { user } = await signUp(url)
    const res = await post(`${url}/api/auth/register`, {
      email: user.email.toUpperCase(),
      username: `other_${Date.now()}`,
      password: 'correct horse battery',
    })
    expect(res.status).toBe(409)
    expect((await json<ErrorBody>(res)).error.code).toBe('CONFLICT')
  })

  it('registration and login are guarded by the "auth" rate-limit policy, per account too', async () => {
    await post(`${url}/api/auth/register`, {
      email: 'Guard@Example.com',
      username: 'x',
      password: 'y',
    })
    await post(`${url}/api/auth/login`, { email: ' Guard@Example.COM', password: 'whatever!' })
    expect(guarded.filter((g) => g === 'auth account:guard@example.com')).toHaveLength(2)
  })

  it.each([
    [{ email: 'not-an-email', username: 'abc', password: 'long enough pw' }],
    [{ email: 'a@b.io', username: 'ab', password: 'long enough pw' }],
    [{ email: 'a@b.io', username: 'abc', password: 'short' }],
    [{ email: 'a@b.io', username: 'abc', password: 'long enough pw', role: 'admin' }],
    [
      {
        email: 'a@b.io',
        username: 'abc',
        password: 'long enough pw',
        id: '00000000-0000-0000-0000-000000000000',
      },
    ],
  ])('422 for %j (a client can never choose its role)', async (body) => {
    const res = await post(`${url}/api/auth/register`, body)
    expect(res.status).toBe(422)
  })
})

describe('login', () => {
  it('200 {accessToken} and an HttpOnly, Secure-capable, SameSite=Strict refresh cookie scoped to /api/auth', async () => {
    const secure = await startApp({
      modules,
      env: { DATABASE_URL: db.url, ...authTestEnv, AUTH_COOKIE_SECURE: 'true' },
    })
    try {
      const { user, password } = await signUp(secure.url)
      const res = await post(`${secure.url}/api/auth/login`, { email: user.email, password })
      expect(res.status).toBe(200)
      expect(Object.keys(await json<object>(res))).toEqual(['accessToken'])
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('refresh_token='))
      expect(cookie).toMatch(/HttpOnly/i)
      expect(cookie).toMatch(/Secure/i)
      expect(cookie).toMatch(/SameSite=Strict/i)
      expect(cookie).toMatch(/Path=\/api\/auth/)
      expect(cookie).toMatch(/Max-Age=604800/)
      // A token response is never stored by a cache (RFC 6749 §5.1).
      expect(res.headers.get('cache-control')).toBe('no-store')
    } finally {
      await secure.close()
    }
  })

  it('answers an unknown email and a wrong password identically, in comparable time', async () => {
    const { user } = await signUp(url)
    const attempt = async (email: string) => {
      const started = performance.now()
      const res = await post(`${url}/api/auth/login`, { email, password: 'wrong password!' })
      return { status: res.status, body: await res.text(), ms: performance.now() - started }
    }
    const wrong = await attempt(user.email)
    const unknown = await attempt('nobody-here@example.com')
    expect(unknown.status).toBe(401)
    expect(wrong.status).toBe(401)
    expect(unknown.body).toBe(wrong.body)
    expect(JSON.parse(unknown.body)).toEqual({
      error: { message: 'Invalid credentials', code: 'INVALID_CREDENTIALS' },
    })
    // Both verify an argon2id hash: the unknown email is not answered measurably faster.
    // Interleaved, so a busy machine slows both alike; medians of 7.
    const known: number[] = []
    const unknownTimes: number[] = []
    for (let i = 0; i < 7; i++) {
      known.push((await attempt(user.email)).ms)
      unknownTimes.push((await attempt('nobody-here@example.com')).ms)
    }
    const median = (times: number[]) => times.sort((a, b) => a - b)[3] as number
    const [knownMs, unknownMs] = [median(known), median(unknownTimes)]
    expect(unknownMs).toBeGreaterThan(knownMs * 0.5)
  })
})

describe('access tokens', () => {
  it('login issues a token that verifies as this user with this role', async () => {
    const session = await signUp(url)
    expect(verifier().verify(session.accessToken)).toEqual({
      userId: session.user.id,
      role: 'user',
      version: 0,
    })
  })

  /** A token made by hand (header, payload, HMAC), so the verifier is checked against the spec. */
  const forge = async (
    claims: Record<string, unknown>,
    options: { secret?: string; alg?: string; typ?: string; exp?: number } = {},
  ) => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const alg = options.alg ?? 'HS256'
    const header = encode({ alg, typ: options.typ ?? 'at+jwt' })
    const payload = encode({
      sub: '00000000-0000-0000-0000-000000000001',
      iss: authTestEnv.JWT_ISSUER,
      aud: authTestEnv.JWT_AUDIENCE,
      iat: now,
      exp: options.exp ?? now + 600,
      ver: 0,
      ...claims,
    })
    const signature = createHmac(alg.replace('HS', 'sha'), options.secret ?? authTestEnv.JWT_SECRET)
      .update(`${header}.${payload}`)
      .digest('base64url')
    return `${header}.${payload}.${signature}`
  }

  it('a well-formed token signed with our key passes (control for the cases below)', async () => {
    const token = await forge({ role: 'user' })
    expect(verifier().verify(token)).toMatchObject({ role: 'user', version: 0 })
  })

  it.each([
    [
      'alg=none',
      async () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString(
          'base64url',
        )
        const payload = Buffer.from(
          JSON.stringify({
            sub: 'x',
            role: 'admin',
            iss: authTestEnv.JWT_ISSUER,
            aud: authTestEnv.JWT_AUDIENCE,
            exp: Math.floor(Date.now() / 1000) + 600,
            iat: Math.floor(Date.now() / 1000),
          }),
        ).toString('base64url')
        return `${header}.${payload}.`
      },
    ],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await forge({ role: 'user' })).split('.')
        const payload = Buffer.from(JSON.stringify({ sub: 'x', role: 'admin' })).toString(
          'base64url',
        )
        return `${header}.${payload}.${signature}`
      },
    ],
    ['another key', () => forge({ role: 'admin' }, { secret: 'x'.repeat(48) })],
    [
      'an expired token (beyond the 60 s skew)',
      () => forge({ role: 'user' }, { exp: Math.floor(Date.now() / 1000) - 120 }),
    ],
    ['a wrong type', () => forge({ role: 'user' }, { typ: 'JWT' })],
    ['HS512 (not allowed)', () => forge({ role: 'user' }, { alg: 'HS512' })],
  ])('rejects %s', async (_name, make) => {
    const token = await make()
    expect(() => verifier().verify(token)).toThrow()
  })
})

describe('refresh and logout', () => {
  const refresh = (cookie: string) => post(`${url}/api/auth/refresh`, {}, { cookie })

  it('rotates: a new access token and a new refresh cookie; the old one is spent', async () => {
    const session = await signUp(url)
    const res = await refresh(session.refreshCookie)
    expect(res.status).toBe(200)
    expect((await json<{ accessToken: string }>(res)).accessToken).toEqual(expect.any(String))
    const next = refreshCookieOf(res)
    expect(next).toBeDefined()
    expect(next).not.toBe(session.refreshCookie)
    expect((await refresh(next as string)).status).toBe(200)
  })

  it('reuse of a rotated token revokes the whole family', async () => {
    const session = await signUp(url)
    const first = await refresh(session.refreshCookie)
    const successor = refreshCookieOf(first) as string
    const reuse = await refresh(session.refreshCookie)
    expect(reuse.status).toBe(401)
    expect((await json<ErrorBody>(reuse)).error.code).toBe('INVALID_REFRESH_TOKEN')
    // the thief's replay killed the legitimate successor too
    expect((await refresh(successor)).status).toBe(401)
  })

  it('two concurrent refreshes with one token: at most one succeeds', async () => {
    const session = await signUp(url)
    // several rounds, so the two requests really do race
    for (let round = 0; round < 5; round++) {
      const { refreshCookie } = round === 0 ? session : await signUp(url)
      const results = await Promise.all([refresh(refreshCookie), refresh(refreshCookie)])
      expect(results.map((r) => r.status).every((s) => s === 200 || s === 401)).toBe(true)
      expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1)
    }
  })

  it('logout revokes the session: 204, and the refresh token no longer works', async () => {
    const session = await signUp(url)
    const res = await post(`${url}/api/auth/logout`, {}, { cookie: session.refreshCookie })
    expect(res.status).toBe(204)
    expect((await refresh(session.refreshCookie)).status).toBe(401)
  })

  it('an access token is never accepted as a refresh token, nor a refresh token as an access token', async () => {
    const session = await signUp(url)
    expect((await refresh(`refresh_token=${session.accessToken}`)).status).toBe(401)
    const refreshValue = session.refreshCookie.split('=')[1] as string
    expect(() => verifier().verify(refreshValue)).toThrow()
  })

  it('refresh answers are never stored by a cache either', async () => {
    const session = await signUp(url)
    const res = await refresh(session.refreshCookie)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('no refresh cookie: 401', async () => {
    expect((await post(`${url}/api/auth/refresh`, {})).status).toBe(401)
  })
})

describe('ending sessions takes effect at once, access tokens included, on every instance', () => {
  let other: TestApp
  beforeAll(async () => {
    other = await startApp({ modules, env: { DATABASE_URL: db.url, ...authTestEnv } })
  })
  afterAll(() => other.close())

  const meOn = (app: TestApp, token: string) => fetch(`${app.url}/me`, { headers: bearer(token) })
  /** Polls until `check` holds: another instance hears of a change within milliseconds. */
  const eventually = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 40 && !(await check()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(await check()).toBe(true)
  }

  it('a valid token works on both instances, and any request carrying it is no-store', async () => {
    const session = await signUp(url)
    for (const instance of [app, other]) {
      const res = await meOn(instance, session.accessToken)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ id: session.user.id, role: 'user' })
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
  })

  it('POST /api/auth/logout-all ends every session: refresh tokens and access tokens', async () => {
    const session = await signUp(url)
    const second = await post(`${url}/api/auth/login`, {
      email: session.user.email,
      password: session.password,
    })
    const secondToken = (await json<{ accessToken: string }>(second)).accessToken
    expect((await meOn(other, secondToken)).status).toBe(200) // cached on the other instance

    const res = await post(`${url}/api/auth/logout-all`, {}, bearer(session.accessToken))
    expect(res.status).toBe(204)
    expect((await meOn(app, session.accessToken)).status).toBe(401)
    await eventually(async () => (await meOn(other, secondToken)).status === 401)
    const refresh = (cookie: string) => post(`${url}/api/auth/refresh`, {}, { cookie })
    expect((await refresh(session.refreshCookie)).status).toBe(401)
    expect((await refresh(refreshCookieOf(second) as string)).status).toBe(401)
    // Signing in again works, with a token of the new version.
    const again = await post(`${url}/api/auth/login`, {
      email: session.user.email,
      password: session.password,
    })
    const fresh = (await json<{ accessToken: string }>(again)).accessToken
    expect((await meOn(other, fresh)).status).toBe(200)
  })

  it('a deleted user is refused at once, wherever the token was last seen', async () => {
    const session = await signUp(url)
    expect((await meOn(other, session.accessToken)).status).toBe(200)
    const { db: handles, auth: service } = { db: app.service('db'), auth: app.service('auth') }
    await handles.write.transaction().execute(async (trx) => {
      await service.endSessions(session.user.id, trx)
      await trx.deleteFrom('users').where('id', '=', session.user.id).execute()
    })
    await eventually(async () => (await meOn(other, session.accessToken)).status === 401)
    expect((await meOn(app, session.accessToken)).status).toBe(401)
  })

  it('401 with invalid_token for a token that is not valid; 401 asking for one when there is none', async () => {
    const bad = await fetch(`${url}/me`, { headers: bearer('not.a.token') })
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token')
    const none = await fetch(`${url}/me`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('configuration', () => {
  it.each([
    [{}, /JWT_SECRET: is required/],
    [{ JWT_SECRET: 'too-short' }, /JWT_SECRET: must be at least 32 bytes/],
    [
      { JWT_SECRET: 'dev-only-change-me-to-48-random-bytes-from-openssl', NODE_ENV: 'production' },
      /JWT_SECRET: is the example value/,
    ],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x/y', ...env }, [database, auth])).toThrow(
      ConfigError,
    )
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x/y', ...env }, [database, auth])).toThrow(
      message,
    )
  })
})
