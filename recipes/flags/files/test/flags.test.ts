import { Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { database } from '../src/db/module.js'
import { type FlagRule, FlagSet, murmur3, rolloutBucket } from '../src/flags/evaluate.js'
import { requireFlag } from '../src/flags/middleware.js'
import { flags } from '../src/flags/module.js'
import type { ReadinessReport } from '../src/health/readiness.js'
import { defineModule, requireService } from '../src/module.js'
import { redis } from '../src/redis/module.js'
import { json, startApp, type TestApp } from './support/app.js'
import { useTestDatabase } from './support/database.js'
import { flagWriter, timeUntil } from './support/flags.js'
import { useRedisPrefix } from './support/redis.js'
import { TcpProxy } from './support/tcp-proxy.js'

const testDb = useTestDatabase()
const space = useRedisPrefix()
const writer = flagWriter(testDb.url, space.env.REDIS_URL)

let counter = 0
/** A flag name no other test uses (tests run in any order, instances share the table). */
const freshFlag = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}`

/** Stands in for the auth recipe here: the caller is whoever `X-Test-User` names. */
const testCaller = defineModule({
  name: 'test-caller',
  env: z.object({}),
  init: () => ({
    middleware: [
      {
        slot: 'auth-context',
        handler: (req, _res, next) => {
          const id = req.headers['x-test-user']
          if (typeof id === 'string') req.user = { id } as Express.User
          next()
        },
      },
    ],
  }),
})

const checkoutFlag = freshFlag('new-checkout')
const betaFlag = freshFlag('beta')

/** Routes that ask the flags: one branches on isEnabled, one exists only behind requireFlag. */
const checkout = defineModule({
  name: 'checkout',
  env: z.object({}),
  init({ services }) {
    const store = requireService(services, 'flags', 'checkout')
    const router = Router()
    router.get('/checkout', (req, res) => {
      res.json({ version: store.isEnabled(checkoutFlag, req.user) ? 2 : 1 })
    })
    router.get('/beta', requireFlag(store, betaFlag), (_req, res) => {
      res.json({ beta: true })
    })
    return { routes: [{ path: '/api', router }] }
  },
})

const modules = [database, redis, flags, testCaller, checkout]
const baseEnv = { ...space.env, DATABASE_URL: testDb.url }

const flagsFor = async (app: TestApp, user?: string) => {
  const res = await fetch(`${app.url}/api/flags`, {
    headers: user ? { 'x-test-user': user } : {},
  })
  expect(res.status).toBe(200)
  return (await json<{ flags: Record<string, boolean> }>(res)).flags
}

const rule = (settings: Partial<FlagRule>): FlagRule => ({
  name: 'f',
  enabled: true,
  percentage: 100,
  allow: [],
  deny: [],
  ...settings,
})

describe('evaluation (src/flags/evaluate.ts, the file `backendkit flags eval` runs too)', () => {
  it.each([
    ['deny beats allow', rule({ allow: ['u1'], deny: ['u1'] }), 'u1', false, 'deny'],
    ['deny beats a full rollout', rule({ deny: ['u1'] }), 'u1', false, 'deny'],
    ['allow beats off', rule({ enabled: false, allow: ['u1'] }), 'u1', true, 'allow'],
    ['allow beats 0 %', rule({ percentage: 0, allow: ['u1'] }), 'u1', true, 'allow'],
    ['off', rule({ enabled: false }), 'u1', false, 'off'],
    ['on for everyone', rule({ percentage: 100 }), 'u1', true, 'percentage'],
    ['on for nobody', rule({ percentage: 0 }), 'u1', false, 'percentage'],
    ['anonymous, partial rollout', rule({ percentage: 50 }), undefined, false, 'percentage'],
    ['anonymous, full rollout', rule({}), undefined, true, 'percentage'],
    ['anonymous, allow list', rule({ enabled: false, allow: ['u1'] }), undefined, false, 'off'],
  ] as const)('%s', (_label, flag, user, enabled, reason) => {
    expect(new FlagSet([flag]).evaluate('f', user)).toEqual({ enabled, reason })
  })

  it('a flag nobody created is off (unknown)', () => {
    expect(new FlagSet().evaluate('nope', 'u1')).toEqual({ enabled: false, reason: 'unknown' })
  })

  it('rolls out to the percentage: 10,000 users at 25 % → 25 % ± 1.5 %', () => {
    const set = new FlagSet([rule({ name: 'rollout', percentage: 25 })])
    let on = 0
    for (let i = 0; i < 10_000; i++) if (set.isEnabled('rollout', `user-${i}`)) on++
    expect(on / 10_000).toBeGreaterThanOrEqual(0.235)
    expect(on / 10_000).toBeLessThanOrEqual(0.265)
  })

  it('is deterministic, and raising the percentage only adds users', () => {
    const at = (percentage: number) => new FlagSet([rule({ name: 'grow', percentage })])
    const users = Array.from({ length: 2_000 }, (_, i) => `u${i}`)
    const on = (percentage: number) => users.filter((u) => at(percentage).isEnabled('grow', u))
    expect(on(10)).toEqual(on(10))
    const ten = new Set(on(10))
    const twenty = new Set(on(20))
    for (const user of ten) expect(twenty.has(user)).toBe(true)
    expect(twenty.size).toBeGreaterThan(ten.size)
  })

  it('hashes as documented: MurmurHash3 x86 32 of "<flag>:<user>", the bucket Unleash uses', () => {
    expect(murmur3('')).toBe(0)
    expect(murmur3('hello')).toBe(0x248bfa47)
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723)
    // Unleash's normalizedValue(userId, group) = bucket + 1 (its clients' shared test values)
    expect(rolloutBucket('gr1', '123') + 1).toBe(73)
    expect(rolloutBucket('groupX', '999') + 1).toBe(25)
    // Non-ASCII ids hash their UTF-8 bytes
    expect(rolloutBucket('f', 'zoë')).toBe(murmur3('f:zoë') % 100)
  })

  it('says which flags a new set changed', () => {
    const before = new FlagSet([rule({ name: 'a' }), rule({ name: 'b' }), rule({ name: 'c' })])
    const after = new FlagSet([
      rule({ name: 'a' }),
      rule({ name: 'b', percentage: 5 }),
      rule({ name: 'd' }),
    ])
    expect(after.changedSince(before)).toEqual(['b', 'c', 'd'])
  })
})

describe('two running instances', () => {
  let a: TestApp
  let b: TestApp
  beforeAll(async () => {
    // Polling every minute: only the announcement can deliver a change within a second.
    const env = { ...baseEnv, FLAGS_POLL_INTERVAL_S: '60' }
    ;[a, b] = await Promise.all([startApp({ modules, env }), startApp({ modules, env })])
  })
  afterAll(async () => {
    await Promise.all([a.close(), b.close()])
  })

  it('both answer a change within a second, over 20 toggles', async () => {
    const name = freshFlag('toggle')
    const delays: number[] = []
    for (let i = 0; i < 20; i++) {
      const enabled = i % 2 === 0
      await writer.set(name, { enabled })
      const started = performance.now()
      await Promise.all(
        [a, b].map((app) => timeUntil(async () => (await flagsFor(app))[name] === enabled, 2_000)),
      )
      delays.push(performance.now() - started)
    }
    expect(Math.max(...delays)).toBeLessThan(1_000)
  })

  it('GET /api/flags answers every flag for the caller, anonymous or not', async () => {
    const allowed = freshFlag('allowed')
    await writer.set(allowed, { enabled: false, allow: ['alice'] })
    await timeUntil(async () => allowed in (await flagsFor(a)))
    const res = await fetch(`${a.url}/api/flags`)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect((await flagsFor(a, 'alice'))[allowed]).toBe(true)
    expect((await flagsFor(a, 'bob'))[allowed]).toBe(false)
    expect((await flagsFor(a))[allowed]).toBe(false)
  })

  it('routes ask isEnabled, and a route behind requireFlag does not exist for the others', async () => {
    await writer.set(checkoutFlag, { enabled: true, percentage: 0, allow: ['carol'] })
    await writer.set(betaFlag, { enabled: false, allow: ['carol'] })
    await timeUntil(async () => (await flagsFor(b, 'carol'))[betaFlag] === true)
    const get = (path: string, user: string) =>
      fetch(`${b.url}/api${path}`, { headers: { 'x-test-user': user } })
    expect(await (await get('/checkout', 'carol')).json()).toEqual({ version: 2 })
    expect(await (await get('/checkout', 'dave')).json()).toEqual({ version: 1 })
    expect((await get('/beta', 'carol')).status).toBe(200)
    expect((await get('/beta', 'dave')).status).toBe(404)
  })

  it('a deleted flag disappears from every instance', async () => {
    const name = freshFlag('gone')
    await writer.set(name, { enabled: true })
    await timeUntil(async () => (await flagsFor(b))[name] === true)
    await writer.remove(name)
    await timeUntil(async () => !(name in (await flagsFor(a))) && !(name in (await flagsFor(b))))
  })
})

describe('when the announcement does not arrive', () => {
  let proxy: TcpProxy
  let app: TestApp
  beforeAll(async () => {
    proxy = await TcpProxy.start(space.env.REDIS_URL)
    app = await startApp({
      modules,
      env: { ...baseEnv, REDIS_URL: proxy.url(space.env.REDIS_URL), FLAGS_POLL_INTERVAL_S: '0.5' },
    })
  })
  afterAll(async () => {
    await app.close()
    await proxy.close()
  })

  it('a lost message is caught up by polling', async () => {
    const name = freshFlag('lost')
    await writer.set(name, { enabled: true }, { announce: false })
    await timeUntil(async () => (await flagsFor(app))[name] === true, 2_000)
  })

  it('with the subscriber cut (Redis unreachable), a change still arrives by polling', async () => {
    const name = freshFlag('cut')
    await writer.set(name, { enabled: false })
    await timeUntil(async () => (await flagsFor(app))[name] === false)
    await proxy.cut()
    try {
      await writer.set(name, { enabled: true })
      await timeUntil(async () => (await flagsFor(app))[name] === true, 2_000)
    } finally {
      await proxy.restore()
    }
  })
})

describe('PostgreSQL unreachable', () => {
  let proxy: TcpProxy
  let app: TestApp
  const env = () => ({
    ...baseEnv,
    DATABASE_URL: proxy.url(testDb.url),
    DATABASE_CONNECT_TIMEOUT_MS: '500',
    FLAGS_POLL_INTERVAL_S: '0.2',
  })
  beforeAll(async () => {
    proxy = await TcpProxy.start(testDb.url)
    app = await startApp({ modules, env: env() })
  })
  afterAll(async () => {
    await app.close()
    await proxy.close()
  })

  it('the last known flags keep serving, and changes made meanwhile arrive once it is back', async () => {
    const name = freshFlag('outage')
    await writer.set(name, { enabled: true })
    await timeUntil(async () => (await flagsFor(app))[name] === true)
    await proxy.cut()
    try {
      await writer.set(name, { enabled: false })
      await new Promise((resolve) => setTimeout(resolve, 1_000)) // a few failed polls
      expect((await flagsFor(app))[name]).toBe(true)
      expect(app.service('flags').isEnabled(name, 'anyone')).toBe(true)
    } finally {
      await proxy.restore()
    }
    await timeUntil(async () => (await flagsFor(app))[name] === false, 3_000)
  })

  it('an instance that could not read the flags at start is not ready until it has', async () => {
    await proxy.cut()
    let cut = true
    let fresh: TestApp | undefined
    try {
      fresh = await startApp({ modules, env: env() })
      const ready = async () => {
        const res = await fetch(`${fresh?.url}/health/ready`)
        return { status: res.status, report: await json<ReadinessReport>(res) }
      }
      const down = await ready()
      expect(down.status).toBe(503)
      expect(down.report.checks.flags?.status).toBe('down')
      await proxy.restore()
      cut = false
      await timeUntil(async () => (await ready()).status === 200, 5_000)
    } finally {
      if (cut) await proxy.restore()
      await fresh?.close()
    }
  })
})
