import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, symlinkSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot, runBin } from '../support/cli.js'
import { testServices } from '../support/env.js'
import { type BuiltInstance, freePort, startBuiltServer } from '../support/net.js'
import { useTestDatabase } from '../support/services.js'

/**
 * The complete service as two instances sharing a Redis of this test's own, which the test stops
 * and starts again: limits hold across instances, a write on one instance invalidates what the
 * other cached, and a Redis outage degrades as declared (no crash, readiness 503, auth refused,
 * the rest served) and heals without a restart.
 */

const db = useTestDatabase('outage')
const children: ChildProcess[] = []
let root: string
let redisPort: number
let redis: ChildProcess | undefined
let a: Instance
let b: Instance

type Instance = BuiltInstance

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function startRedis(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  children.push(redis)
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(redisPort, '127.0.0.1')
        socket.once('connect', () => {
          socket.destroy()
          resolve(true)
        })
        socket.once('error', () => resolve(false))
      }),
  )
}

async function stopRedis(): Promise<void> {
  const stopping = redis
  if (!stopping) return
  stopping.kill('SIGKILL')
  await once(stopping, 'exit')
  redis = undefined
}

async function boot(): Promise<Instance> {
  const instance = await startBuiltServer(
    root,
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      AMQP_URL: testServices.amqpUrl,
      JWT_SECRET: 'outage-test-secret-that-is-long-enough-0123456789',
      AUTH_COOKIE_SECURE: 'false',
      TRUST_PROXY: '1',
      RATE_LIMIT_MAX: '20',
      SHUTDOWN_DELAY_MS: '0',
      METRICS_PORT: '0',
    },
    15_000,
  )
  children.push(instance.child)
  return instance
}

/** A request as a client at `ip` (the service trusts one proxy hop here). */
const as = (ip: string, init: RequestInit = {}) => ({
  ...init,
  headers: { 'x-forwarded-for': ip, ...(init.headers as Record<string, string>) },
})
const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

beforeAll(async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-outage-'))
  expect((await runBin(['new', 'svc', '--no-install', '--no-git'], { cwd })).code).toBe(0)
  root = path.join(cwd, 'svc')
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' })
  expect(build.status, build.stderr).toBe(0)
  const migrate = await runBin(['migrate', 'up'], { cwd: root, env: { DATABASE_URL: db.url } })
  expect(migrate.code, migrate.stderr).toBe(0)
  redisPort = await freePort()
  await startRedis()
  ;[a, b] = [await boot(), await boot()]
}, 120_000)

afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})

describe('two instances, one Redis', () => {
  it('hold one rate limit between them: exactly RATE_LIMIT_MAX of 60 concurrent requests pass', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        fetch(`${(i % 2 ? a : b).url}/api/posts`, as('198.51.100.1')).then((r) => r.status),
      ),
    )
    expect(statuses.filter((s) => s === 200)).toHaveLength(20)
    expect(statuses.filter((s) => s === 429)).toHaveLength(40)
  })

  it('a write through one instance invalidates what the other cached', async () => {
    const client = as('198.51.100.2').headers
    const email = `outage-${Date.now()}@example.com`
    const password = 'a password long enough'
    const registered = await postJson(
      `${a.url}/api/auth/register`,
      { email, username: `o${Date.now()}`, password },
      client,
    )
    expect(registered.status).toBe(201)
    const { id: userId } = (await registered.json()) as { id: string }
    const login = await postJson(`${a.url}/api/auth/login`, { email, password }, client)
    const { accessToken } = (await login.json()) as { accessToken: string }
    const auth = { ...client, authorization: `Bearer ${accessToken}` }
    const created = await postJson(
      `${a.url}/api/users/${userId}/posts`,
      { title: 'before', body: 'b' },
      auth,
    )
    const { id: postId } = (await created.json()) as { id: string }
    const title = async () =>
      (
        (await (await fetch(`${b.url}/api/posts/${postId}`, as('198.51.100.3'))).json()) as {
          title: string
        }
      ).title
    expect(await title()).toBe('before') // cached by b
    const patched = await fetch(`${a.url}/api/posts/${postId}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'after' }),
    })
    expect(patched.status).toBe(200)
    expect(await title()).toBe('after')
  })
})

describe('Redis stopped, then started again', () => {
  it('degrades as declared without a crash, and recovers without a restart', async () => {
    await stopRedis()
    for (const instance of [a, b]) {
      await waitFor(async () => (await fetch(`${instance.url}/health/ready`)).status === 503)
      expect((await fetch(`${instance.url}/health/live`)).status).toBe(200)
    }
    // The default policy fails open: reads are served (from PostgreSQL: the cache is down too).
    const read = await fetch(`${a.url}/api/posts`, as('198.51.100.4'))
    expect(read.status).toBe(200)
    expect(read.headers.get('ratelimit')).toBeNull()
    // The auth policy fails closed: no password guessing while limits cannot be counted.
    const login = await postJson(
      `${b.url}/api/auth/login`,
      { email: 'x@example.com', password: 'whatever' },
      as('198.51.100.5').headers,
    )
    expect(login.status).toBe(503)
    expect(login.headers.get('retry-after')).toBeTruthy()

    await startRedis()
    for (const instance of [a, b]) {
      await waitFor(async () => (await fetch(`${instance.url}/health/ready`)).status === 200)
    }
    const limited = await fetch(`${b.url}/api/posts`, as('198.51.100.6'))
    expect(limited.status).toBe(200)
    expect(limited.headers.get('ratelimit')).toMatch(/^"default";r=19;t=\d+$/)
    for (const instance of [a, b]) {
      expect(instance.child.exitCode).toBeNull()
      expect(instance.logs()).not.toMatch(/unhandled|uncaught/i)
      // One line when the outage began, not one per request or reconnect attempt.
      expect(
        instance.logs().match(/rate limit store unreachable/g)?.length ?? 0,
      ).toBeLessThanOrEqual(2)
    }
  }, 60_000)
})
