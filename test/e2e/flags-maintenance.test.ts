import { type ChildProcess, spawnSync } from 'node:child_process'
import { mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot, runBin, runCli } from '../support/cli.js'
import { type BuiltInstance, startBuiltServer } from '../support/net.js'
import { useRedisPrefix, useTestDatabase } from '../support/services.js'

/**
 * As an operator works: two built instances of a generated service (flags, maintenance and auth)
 * sharing a database and a Redis prefix, changed only through `backendkit flags`, `down` and
 * `up` (run in-process, as a CI step would run the bin).
 */

const db = useTestDatabase('flags_e2e')
const space = useRedisPrefix('flags-e2e')
const children: ChildProcess[] = []
let root: string
let a: Instance
let b: Instance

type Instance = BuiltInstance

afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})

/** Polls `check` every few ms; resolves with how long it took to hold. */
async function timeUntil(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const started = performance.now()
  while (!(await check().catch(() => false))) {
    if (performance.now() - started > timeoutMs) throw new Error(`not true after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return performance.now() - started
}

async function boot(): Promise<Instance> {
  const instance = await startBuiltServer(root, {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    REDIS_URL: space.url,
    REDIS_KEY_PREFIX: space.prefix,
    JWT_SECRET: 'flags-e2e-secret-that-is-long-enough-0123456789',
    AUTH_COOKIE_SECURE: 'false',
    SHUTDOWN_DELAY_MS: '0',
    // Polling once a minute: a change within a second can only be the announcement's doing.
    FLAGS_POLL_INTERVAL_S: '60',
  })
  children.push(instance.child)
  return instance
}

const operatorEnv = {
  DATABASE_URL: db.url,
  REDIS_URL: space.url,
  REDIS_KEY_PREFIX: space.prefix,
  BACKENDKIT_ACTOR: 'e2e',
}

/** `backendkit <args>` in the project, as an operator runs it. */
async function backendkit(args: string[]) {
  const result = await runCli([...args, '--cwd', root], { env: operatorEnv })
  expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0)
  return result
}

async function flagsOf(instance: Instance, token?: string): Promise<Record<string, boolean>> {
  const res = await fetch(`${instance.url}/api/flags`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  if (res.status !== 200) throw new Error(`GET /api/flags: ${res.status}`)
  return ((await res.json()) as { flags: Record<string, boolean> }).flags
}

const postJson = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

beforeAll(async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-flags-'))
  const made = await runBin(
    ['new', 'svc', '--recipes', 'flags,maintenance,auth', '--no-install', '--no-git'],
    { cwd },
  )
  expect(made.code, made.stderr).toBe(0)
  root = path.join(cwd, 'svc')
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' })
  expect(build.status, build.stderr).toBe(0)
  await backendkit(['migrate', 'up'])
  ;[a, b] = await Promise.all([boot(), boot()])
}, 120_000)

describe('backendkit flags, two running instances', () => {
  it('`flags set x --on --yes`: both answer the new value; over 20 toggles the slowest takes under a second', async () => {
    await backendkit(['flags', 'set', 'e2e-toggle', '--create', '--off', '--yes'])
    await timeUntil(async () => (await flagsOf(a))['e2e-toggle'] === false)
    const delays: number[] = []
    for (let i = 0; i < 20; i++) {
      const enabled = i % 2 === 0
      const started = performance.now()
      await backendkit(['flags', 'set', 'e2e-toggle', enabled ? '--on' : '--off', '--yes'])
      await Promise.all(
        [a, b].map((instance) =>
          timeUntil(async () => (await flagsOf(instance))['e2e-toggle'] === enabled, 2_000),
        ),
      )
      delays.push(performance.now() - started)
    }
    const sorted = [...delays].sort((x, y) => x - y)
    console.info(
      `flags set → both instances: median ${Math.round(sorted[10] ?? 0)} ms, slowest ${Math.round(sorted[19] ?? 0)} ms (from the command's start)`,
    )
    expect(Math.max(...delays)).toBeLessThan(1_000)
  })

  it('`flags eval` and the service agree for every user of a sample', async () => {
    const users: { id: string; token: string }[] = []
    for (let i = 0; i < 24; i++) {
      const email = `sample-${i}-${Date.now()}@example.com`
      const password = 'a password long enough'
      const registered = await postJson(`${a.url}/api/auth/register`, {
        email,
        username: `sample_${i}_${Date.now()}`,
        password,
      })
      expect(registered.status).toBe(201)
      const { id } = (await registered.json()) as { id: string }
      const login = await postJson(`${b.url}/api/auth/login`, { email, password })
      const { accessToken } = (await login.json()) as { accessToken: string }
      users.push({ id, token: accessToken })
    }
    const [allowed, denied] = [users[3]?.id ?? '', users[5]?.id ?? '']
    await backendkit([
      'flags',
      'set',
      'e2e-rollout',
      '--create',
      '--on',
      '--percentage',
      '40',
      '--allow',
      allowed,
      '--deny',
      denied,
      '--yes',
    ])
    await timeUntil(async () => 'e2e-rollout' in (await flagsOf(b)))
    const answers = new Set<string>()
    for (const [i, user] of users.entries()) {
      const evaluated = JSON.parse(
        (await backendkit(['flags', 'eval', 'e2e-rollout', '--user', user.id, '--json'])).stdout,
      ) as { enabled: boolean; reason: string }
      const served = (await flagsOf(i % 2 ? a : b, user.token))['e2e-rollout']
      expect(served, `user ${user.id} (${evaluated.reason})`).toBe(evaluated.enabled)
      answers.add(`${evaluated.reason}:${evaluated.enabled}`)
    }
    // The sample covers each way to an answer.
    expect(answers).toEqual(
      new Set(['allow:true', 'deny:false', 'percentage:true', 'percentage:false']),
    )
    expect((await flagsOf(a))['e2e-rollout']).toBe(false) // anonymous, partial rollout
  })
})

describe('backendkit down / up, two running instances', () => {
  const secret = 'e2e-bypass-secret-42'
  const get = (instance: Instance, pathname = '/api/flags', headers: Record<string, string> = {}) =>
    fetch(`${instance.url}${pathname}`, { headers })

  it('down: both 503 with Retry-After within a second, probes unaffected, bypass works; up: 200', async () => {
    const started = performance.now()
    await backendkit([
      'down',
      '--retry',
      '30',
      '--secret',
      secret,
      '--message',
      'Migrating the database',
      '--yes',
    ])
    await Promise.all(
      [a, b].map((instance) => timeUntil(async () => (await get(instance)).status === 503, 2_000)),
    )
    expect(performance.now() - started).toBeLessThan(1_000)
    for (const instance of [a, b]) {
      const res = await get(instance)
      expect(res.headers.get('retry-after')).toBe('30')
      expect(await res.json()).toEqual({
        error: { message: 'Migrating the database', code: 'MAINTENANCE' },
      })
      expect((await get(instance, '/health/live')).status).toBe(200)
      expect((await get(instance, '/health/ready')).status).toBe(200)
      expect((await get(instance, '/api/flags', { 'x-maintenance-bypass': secret })).status).toBe(
        200,
      )
    }
    const visit = await get(a, `/__maintenance/${secret}`)
    expect(visit.status).toBe(200)
    const cookie = (visit.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    expect((await get(b, '/api/flags', { cookie })).status).toBe(200)

    const back = performance.now()
    await backendkit(['up'])
    await Promise.all(
      [a, b].map((instance) => timeUntil(async () => (await get(instance)).status === 200, 2_000)),
    )
    expect(performance.now() - back).toBeLessThan(1_000)
    for (const instance of [a, b]) expect(instance.logs()).not.toMatch(/unhandled|uncaught/i)
  })
})
