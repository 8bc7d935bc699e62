import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, symlinkSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot, runBin } from '../support/cli.js'
import { testServices } from '../support/env.js'
import { freePort } from '../support/net.js'
import {
  queryDatabase,
  useAmqpPrefix,
  useRedisPrefix,
  useTestDatabase,
} from '../support/services.js'

/**
 * End to end, as a user works: the built bin generates a project, which reuses this repo's
 * node_modules (same versions by construction), typechecks, lints, passes its own test suite
 * against the real services, builds, boots, answers `backendkit health --wait`, and shuts down
 * gracefully.
 */

const db = useTestDatabase('e2e')
const redis = useRedisPrefix('e2e')
const amqp = useAmqpPrefix('e2e')
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})

function npm(cwd: string, script: string, env: Record<string, string> = {}, args: string[] = []) {
  const result = spawnSync('npm', ['run', script, ...(args.length ? ['--', ...args] : [])], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', ...env },
  })
  return {
    code: result.status,
    output: stripVTControlCharacters(`${result.stdout}\n${result.stderr}`),
  }
}

async function generate(...args: string[]): Promise<string> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-e2e-'))
  const result = await runBin(['new', 'svc', '--no-install', '--no-git', ...args], { cwd })
  expect(result.code, result.stderr).toBe(0)
  const root = path.join(cwd, 'svc')
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  return root
}

function boot(
  root: string,
  env: Record<string, string>,
  entry = 'dist/server.js',
): ChildProcess & { logs: () => string } {
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let logs = ''
  child.stdout?.on('data', (chunk) => (logs += chunk))
  child.stderr?.on('data', (chunk) => (logs += chunk))
  children.push(child)
  return Object.assign(child, { logs: () => logs })
}

/** A POST whose body arrives in two parts, `gapMs` apart: in flight at the server meanwhile. */
function slowRequest(port: number, gapMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/no-such-route',
        headers: { 'content-type': 'application/json', 'content-length': '13' },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.write('{"slow":')
    setTimeout(() => req.end('true}'), gapMs)
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The exit code of a child process, whether it has exited already or not. */
async function exitCodeOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const [code] = await once(child, 'exit')
  return code as number | null
}

/**
 * 64 keep-alive connections, each sending its next GET as soon as the last is answered, as a
 * load balancer's pool does; `stop()` sends nothing new, waits for what is in flight, reports.
 */
function keepAliveLoad(url: string, connections: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const report = { sent: 0, failed: 0, errors: [] as string[], closeAfter: 0, keptAfter: 0 }
  let running = true
  let noticedAt = Number.POSITIVE_INFINITY
  const get = () =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now()
      report.sent++
      http
        .get(url, { agent }, (res) => {
          res.resume()
          res.on('end', () => {
            // Sent after the 503 was seen: the server must have told the client to close.
            if (sentAt > noticedAt) {
              if (res.headers.connection === 'close') report.closeAfter++
              else report.keptAfter++
            }
            resolve()
          })
        })
        .on('error', (error: NodeJS.ErrnoException) => {
          report.failed++
          if (report.errors.length < 5) report.errors.push(`${error.code}: ${error.message}`)
          resolve()
        })
    })
  const workers = Array.from({ length: connections }, async () => {
    while (running) await get()
  })
  return {
    /** Readiness said 503 at this instant (performance.now()). */
    noticed(at: number) {
      noticedAt = at
    },
    async stop() {
      running = false
      await Promise.all(workers)
      agent.destroy()
      return report
    },
  }
}

/** One GET on a connection of its own: the status, or the error code when nothing answered. */
function getOnce(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

/** Whether a TCP connection to the port is accepted right now. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe.each([
  ['the core-only project', ['--recipes', 'core']],
  ['the complete project', []],
])('%s', (_label, args) => {
  it('typechecks, lints, passes its own tests, builds, boots, is healthy and stops gracefully', {
    timeout: 180_000,
  }, async () => {
    const root = await generate(...args)
    const complete = args.length === 0
    for (const script of ['typecheck', 'lint']) {
      const run = npm(root, script)
      expect(run.code, run.output).toBe(0)
    }
    // In a random order: no generated test may depend on another having run first.
    const tests = npm(
      root,
      'test',
      {
        TEST_DATABASE_URL: testServices.postgresAdminUrl,
        TEST_REDIS_URL: testServices.redisUrl,
        TEST_AMQP_URL: testServices.amqpUrl,
      },
      ['--sequence.shuffle'],
    )
    expect(tests.code, tests.output).toBe(0)
    expect(tests.output).toMatch(/Tests\s+\d+ passed/)
    const build = npm(root, 'build')
    expect(build.code, build.output).toBe(0)

    if (complete) {
      // The deploy steps: backendkit migrates the generated migrations, then the seed runs.
      const migrate = await runBin(['migrate', 'up', '--json'], {
        cwd: root,
        env: { DATABASE_URL: db.url },
      })
      expect(migrate.code, migrate.stderr).toBe(0)
      expect(JSON.parse(migrate.stdout).migrations.length).toBeGreaterThanOrEqual(2)
      const check = await runBin(['migrate', 'status', '--check'], {
        cwd: root,
        env: { DATABASE_URL: db.url },
      })
      expect(check.code, check.stdout).toBe(0)
      const seedEnv = {
        DATABASE_URL: db.url,
        ADMIN_EMAIL: 'root@example.com',
        ADMIN_PASSWORD: 'a long admin password',
      }
      for (let run = 0; run < 2; run++) {
        const seed = npm(root, 'db:seed', seedEnv)
        expect(seed.code, seed.output).toBe(0)
      }
      const admins = await queryDatabase<{ role: string }>(
        db.url,
        "select role from users where email = 'root@example.com'",
      )
      expect(admins).toEqual([{ role: 'admin' }])
    }

    const port = await freePort()
    const shutdownDelayMs = 1_000
    const metricsToken = 'e2e-metrics-token-0123456789'
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: String(shutdownDelayMs),
      ...(complete
        ? {
            DATABASE_URL: db.url,
            REDIS_URL: testServices.redisUrl,
            REDIS_KEY_PREFIX: redis.prefix,
            QUEUE_PREFIX: `${redis.prefix}bull`,
            AMQP_URL: amqp.url,
            AMQP_PREFIX: amqp.prefix,
            JWT_SECRET: 'e2e-secret-that-is-long-enough-for-hs256-0123',
            // Metrics on the API port behind the token (no port of their own for the server).
            METRICS_TOKEN: metricsToken,
            METRICS_PORT: '0',
          }
        : {}),
    }
    const server = boot(root, env)
    // backendkit.json says :3000; the test's server is on a free port, so name it.
    const probe = await runBin(
      [
        'health',
        `http://127.0.0.1:${port}`,
        '--wait',
        '--timeout',
        '20s',
        '--interval',
        '200ms',
        '--json',
      ],
      { cwd: root },
    )
    expect(probe.code, `${probe.stdout}\n${server.logs()}`).toBe(0)
    const report = JSON.parse(probe.stdout)
    if (complete) {
      // The API answers as its route table says, on the migrated database.
      const base = `http://127.0.0.1:${port}/api/auth`
      const send = (path: string, body: unknown) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      expect(
        (
          await send('/register', {
            email: 'e2e@example.com',
            username: 'e2e_user',
            password: 'e2e password 123',
          })
        ).status,
      ).toBe(201)
      const login = await send('/login', {
        email: 'root@example.com',
        password: 'a long admin password',
      })
      expect(login.status).toBe(200)
      const { accessToken } = (await login.json()) as { accessToken: string }
      const users = await fetch(`http://127.0.0.1:${port}/api/users`, {
        headers: { authorization: `Bearer ${accessToken}` },
      })
      expect(users.status).toBe(200)
      expect(((await users.json()) as { meta: { total: number } }).meta.total).toBe(2)
    }
    if (complete)
      expect(report.readiness.checks.map((c: { name: string }) => c.name)).toContain('postgres')

    // The worker (npm run worker) of the same build, with its own probes.
    const workerPort = await freePort()
    const workerMetricsPort = await freePort()
    const worker = boot(
      root,
      {
        ...env,
        WORKER_HEALTH_PORT: String(workerPort),
        ...(complete ? { METRICS_PORT: String(workerMetricsPort) } : {}),
      },
      'dist/worker.js',
    )
    const workerProbe = await runBin(
      ['health', `http://127.0.0.1:${workerPort}`, '--wait', '--timeout', '20s', '--json'],
      { cwd: root },
    )
    expect(workerProbe.code, `${workerProbe.stdout}\n${worker.logs()}`).toBe(0)
    if (complete) {
      const checks = JSON.parse(workerProbe.stdout).readiness.checks.map(
        (c: { name: string }) => c.name,
      )
      expect(checks).toEqual(expect.arrayContaining(['rabbitmq', 'queue-workers', 'postgres']))
      // A comment on the admin's post, by the e2e user: the built worker notifies the admin.
      const api = `http://127.0.0.1:${port}/api`
      const token = async (email: string, password: string) => {
        const login = await fetch(`${api}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password }),
        })
        return `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`
      }
      const admin = await token('root@example.com', 'a long admin password')
      const user = await token('e2e@example.com', 'e2e password 123')
      const send = async (path: string, authorization: string, body: unknown) =>
        (await fetch(`${api}${path}`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json())) as { id: string }
      const users = (await fetch(`${api}/users?limit=100`, {
        headers: { authorization: admin },
      }).then((r) => r.json())) as { data: { id: string; email?: string }[] }
      const me = users.data.find((u) => u.email === 'root@example.com') as { id: string }
      const post = await send(`/users/${me.id}/posts`, admin, { title: 'Hi', body: 'there' })
      await send(`/posts/${post.id}/comments`, user, { body: 'a comment' })
      let notified = 0
      for (let i = 0; i < 100 && notified === 0; i++) {
        await sleep(100)
        const page = (await fetch(`${api}/notifications`, {
          headers: { authorization: admin },
        }).then((r) => r.json())) as { data: unknown[] }
        notified = page.data.length
      }
      expect(notified, worker.logs()).toBe(1)

      // The schedules the built worker published, as `backendkit cron list` shows them.
      const cron = await runBin(['cron', 'list', '--json'], {
        cwd: root,
        env: { REDIS_URL: testServices.redisUrl, REDIS_KEY_PREFIX: redis.prefix },
      })
      expect(cron.code, cron.stderr).toBe(0)
      expect(JSON.parse(cron.stdout).schedules).toContainEqual(
        expect.objectContaining({
          name: 'purge-expired-refresh-tokens',
          paused: false,
          nextRun: expect.any(String),
        }),
      )

      // Metrics: the API's behind its token, by route template; the worker's on its own port;
      // both count the jobs of every queue by state.
      const metricsUrl = `http://127.0.0.1:${port}/metrics`
      expect((await fetch(metricsUrl)).status).toBe(401)
      const scraped = await fetch(metricsUrl, {
        headers: { authorization: `Bearer ${metricsToken}` },
      })
      expect(scraped.status).toBe(200)
      const exposition = await scraped.text()
      expect(exposition).toMatch(
        /^http_request_duration_seconds_count\{[^}]*route="\/api\/posts\/:[a-zA-Z]+\/comments"[^}]*\} 1$/m,
      )
      expect(exposition).not.toContain(post.id)
      expect(exposition).toMatch(/^queue_jobs\{queue="notifications",state="completed"\} 1$/m)
      expect(exposition).toMatch(/^db_pool_connections/m)
      // With METRICS_TOKEN set, the worker's port asks for it too.
      const workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`
      expect((await fetch(workerMetricsUrl)).status).toBe(401)
      const workerMetrics = await fetch(workerMetricsUrl, {
        headers: { authorization: `Bearer ${metricsToken}` },
      })
      expect(workerMetrics.status).toBe(200)
      expect(await workerMetrics.text()).toMatch(
        /^queue_jobs\{queue="notifications",state="completed"\} 1$/m,
      )
    }

    // SIGTERM under load, the way Kubernetes ends a pod behind a load balancer: readiness turns
    // 503 at once while the server goes on serving for SHUTDOWN_DELAY_MS; the load balancer (the
    // load here) stops sending a moment after it sees the 503; requests in flight finish, even
    // those still arriving when the port closes; then the process exits 0. Nothing fails.
    const load = keepAliveLoad(`http://127.0.0.1:${port}/health/live`, 64)
    const inFlight = Array.from({ length: 8 }, () =>
      slowRequest(port, 1_500).catch((error: NodeJS.ErrnoException) => error.code),
    )
    await sleep(300)
    const signalledAt = performance.now()
    server.kill('SIGTERM')
    let notReadyAt = 0
    while (notReadyAt === 0) {
      const status = await getOnce(`http://127.0.0.1:${port}/health/ready`)
      expect(status, `readiness before the port closed\n${server.logs()}`).toBeTypeOf('number')
      if (status === 503) notReadyAt = performance.now()
      else await sleep(20)
    }
    load.noticed(notReadyAt)
    await sleep(200)
    const loadReport = await load.stop()
    while (await portAnswers(port)) await sleep(20)
    const closedAt = performance.now()
    const statuses = await Promise.all(inFlight)
    const exitCode = await exitCodeOf(server)
    console.info(
      `SIGTERM under a 64-connection keep-alive load: ${loadReport.sent} requests sent, ` +
        `${loadReport.failed} failed; readiness 503 after ${Math.round(notReadyAt - signalledAt)} ms, ` +
        `port closed after ${Math.round(closedAt - signalledAt)} ms; ` +
        `${loadReport.closeAfter} responses after the 503, all with Connection: close`,
    )
    expect(loadReport.failed, loadReport.errors.join('\n')).toBe(0)
    expect(loadReport.closeAfter).toBeGreaterThan(0)
    expect(loadReport.keptAfter).toBe(0)
    expect(closedAt - signalledAt).toBeGreaterThanOrEqual(shutdownDelayMs - 50)
    expect(statuses).toEqual(Array(8).fill(404))
    expect(exitCode, server.logs()).toBe(0)

    worker.kill('SIGTERM')
    expect(await exitCodeOf(worker), worker.logs()).toBe(0)
  })
})

describe('the complete project with PostgreSQL and Redis unreachable', () => {
  it('boots, answers live, reports readiness 503, and `backendkit health` exits 1', {
    timeout: 120_000,
  }, async () => {
    const root = await generate()
    expect(npm(root, 'build').code).toBe(0)
    const port = await freePort()
    const server = boot(root, {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nowhere',
      DATABASE_CONNECT_TIMEOUT_MS: '300',
      REDIS_URL: 'redis://127.0.0.1:9',
      AMQP_URL: 'amqp://127.0.0.1:9',
      JWT_SECRET: 'e2e-secret-that-is-long-enough-for-hs256-0123',
    })
    const live = await runBin(
      [
        'health',
        `http://127.0.0.1:${port}`,
        '--wait',
        '--timeout',
        '5s',
        '--interval',
        '200ms',
        '--json',
      ],
      { cwd: root },
    )
    expect(live.code).toBe(1)
    const report = JSON.parse(live.stdout)
    expect(report.live.status, `${live.stdout}\n${server.logs()}`).toBe(200)
    expect(report.readiness.status).toBe(503)
    expect(report.readiness.checks).toContainEqual(
      expect.objectContaining({ name: 'postgres', status: 'down' }),
    )
    expect(report.readiness.checks).toContainEqual(
      expect.objectContaining({ name: 'redis', status: 'down' }),
    )
    server.kill('SIGTERM')
    await once(server, 'exit')
  })
})
