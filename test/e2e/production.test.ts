import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBin } from '../support/cli.js'
import { parseDockerfile, runStage, type StageRun } from '../support/dockerfile.js'
import { testServices } from '../support/env.js'
import { freePort } from '../support/net.js'
import { useAmqpPrefix, useRedisPrefix, useTestDatabase } from '../support/services.js'

/**
 * From a checkout of backendkit, as a user goes to production: `new` writes the complete service
 * and installs it (backendkit packed into vendor/, so `npx backendkit` there is the version that
 * generated it). Then the Dockerfile's runtime stage, step by step in a temporary folder, since
 * no image can be pulled here: `npm ci --omit=dev`, `dist/` and `backendkit.json` from the build.
 * There the migrations run compiled, and the service and the worker start and answer
 * `/health/ready` with no devDependency installed. npm installs from its cache when it can
 * (prefer-offline): every version is pinned and this repo's install put them there.
 */

const db = useTestDatabase('prod')
const redis = useRedisPrefix('prod')
const amqp = useAmqpPrefix('prod')
const npmOffline = {
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
}
const children: ChildProcess[] = []
let root: string
let runtime: string
let stage: StageRun

afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})

/** npx / npm inside the generated project, the way its README says. */
function inProject(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...npmOffline, ...env },
  })
  return {
    code: result.status,
    stdout: result.stdout,
    output: `${result.stdout}\n${result.stderr}`,
  }
}

/** Polls until the URL answers 200, or fails with the last answer and the process's output. */
async function waitForReady(url: string, logs: () => string): Promise<unknown> {
  const deadline = Date.now() + 30_000
  let last = ''
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url)
      if (res.status === 200) return res.json()
      last = `${res.status} ${await res.text()}`
    } catch (error) {
      last = String(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${url} never answered 200 (last: ${last})\n${logs()}`)
}

function start(argv: string[], env: Record<string, string>) {
  const [command = '', ...args] = argv
  const child = spawn(command, args, { cwd: runtime, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let logs = ''
  child.stdout?.on('data', (chunk) => (logs += chunk))
  child.stderr?.on('data', (chunk) => (logs += chunk))
  children.push(child)
  return Object.assign(child, { logs: () => logs })
}

beforeAll(async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-prod-'))
  const created = await runBin(['new', 'svc', '--yes', '--no-git'], {
    cwd,
    env: npmOffline,
    timeoutMs: 300_000,
  })
  expect(created.code, `${created.stdout}\n${created.stderr}`).toBe(0)
  root = path.join(cwd, 'svc')
  runtime = path.join(cwd, 'runtime')
}, 320_000)

describe('the complete service, generated from a checkout and run as its image runs it', () => {
  it('npx backendkit in the project runs the version that generated it, installed from vendor/', () => {
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'))
    expect(lock.packages['node_modules/backendkit']).toMatchObject({
      version: '0.1.0',
      resolved: 'file:vendor/backendkit-0.1.0.tgz',
      dev: true,
    })
    // A copy inside the project, not a link to the checkout.
    expect(lstatSync(path.join(root, 'node_modules/backendkit')).isSymbolicLink()).toBe(false)
    const version = inProject('npx', ['backendkit', '--version'])
    expect(version.code, version.output).toBe(0)
    expect(version.stdout.trim()).toBe('0.1.0')
    // It operates the project: the pending TypeScript migrations, through its own tsx.
    const status = inProject('npx', ['backendkit', 'migrate', 'status', '--json'], {
      DATABASE_URL: db.url,
    })
    expect(status.code, status.output).toBe(0)
    const migrations = readdirSync(path.join(root, 'src/db/migrations')).filter((f) =>
      f.endsWith('.ts'),
    )
    expect(migrations.length).toBeGreaterThanOrEqual(2)
    expect(JSON.parse(status.stdout)).toMatchObject({ applied: 0, pending: migrations.length })
  })

  it('the runtime stage installs production dependencies only, and holds nothing else', {
    timeout: 240_000,
  }, () => {
    const build = inProject('npm', ['run', 'build'])
    expect(build.code, build.output).toBe(0)
    const dockerfile = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'))
    const last = dockerfile.stages.at(-1)!
    expect(last.name).toBe('runtime')
    // The build stage's WORKDIR is the project itself: it was installed and built above.
    stage = runStage(last, {
      context: root,
      target: runtime,
      stages: { build: root },
      env: npmOffline,
    })
    expect(stage.user).toBe('node')
    expect(stage.env.NODE_ENV).toBe('production')
    expect(readdirSync(runtime).sort()).toEqual([
      'backendkit.json',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
    ])
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
    // Nothing the lock marks dev-only is there (a devDependency that a production dependency
    // also needs, such as @types/node for socket.io, is not dev-only).
    const lock = JSON.parse(readFileSync(path.join(runtime, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>
    }
    const devOnly = Object.entries(lock.packages)
      .filter(([where, entry]) => where.startsWith('node_modules/') && entry.dev)
      .map(([where]) => where)
    expect(devOnly.length).toBeGreaterThan(100) // typescript, vitest, biome, tsx, backendkit, …
    expect(devOnly.filter((where) => existsSync(path.join(runtime, where)))).toEqual([])
    for (const tool of ['typescript', 'tsx', 'vitest', 'backendkit', '@biomejs/biome']) {
      expect(existsSync(path.join(runtime, 'node_modules', tool)), tool).toBe(false)
    }
    for (const name of Object.keys(pkg.dependencies)) {
      expect(existsSync(path.join(runtime, 'node_modules', name)), name).toBe(true)
    }
  })

  it('the compiled migrations run there, and the project’s backendkit sees them applied', () => {
    const migrate = spawnSync(process.execPath, ['dist/db/migrate.js'], {
      cwd: runtime,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...stage.env, DATABASE_URL: db.url },
    })
    expect(migrate.status, `${migrate.stdout}\n${migrate.stderr}`).toBe(0)
    const check = inProject('npx', ['backendkit', 'migrate', 'status', '--check'], {
      DATABASE_URL: db.url,
    })
    expect(check.code, check.output).toBe(0)
  })

  it('the service and the worker start there, answer /health/ready, pass the HEALTHCHECK and the gate, and stop cleanly', {
    timeout: 90_000,
  }, async () => {
    const [port, healthPort] = [await freePort(), await freePort()]
    const env = {
      PATH: process.env.PATH ?? '',
      ...stage.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKER_HEALTH_PORT: String(healthPort),
      METRICS_PORT: '0',
      SHUTDOWN_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      REDIS_URL: testServices.redisUrl,
      REDIS_KEY_PREFIX: redis.prefix,
      QUEUE_PREFIX: `${redis.prefix}bull`,
      AMQP_URL: amqp.url,
      AMQP_PREFIX: amqp.prefix,
      JWT_SECRET: 'production-test-secret-long-enough-for-hs256-0123',
    }
    expect(stage.cmd).toEqual(['node', 'dist/server.js'])
    const server = start([process.execPath, ...stage.cmd.slice(1)], env)
    const worker = start([process.execPath, 'dist/worker.js'], env)
    const serverReady = await waitForReady(`http://127.0.0.1:${port}/health/ready`, server.logs)
    expect(serverReady).toMatchObject({ status: 'ok', checks: { postgres: { status: 'up' } } })
    const workerReady = await waitForReady(
      `http://127.0.0.1:${healthPort}/health/ready`,
      worker.logs,
    )
    expect(workerReady).toMatchObject({ status: 'ok', checks: { redis: { status: 'up' } } })

    // The image's HEALTHCHECK command, as Docker would run it inside the container.
    const [command = '', ...args] = stage.healthcheck
    const healthcheck = spawnSync(command === 'node' ? process.execPath : command, args, {
      cwd: runtime,
      env,
      encoding: 'utf8',
    })
    expect(healthcheck.status, healthcheck.stderr).toBe(0)
    // The deploy gate of the CI workflow, with the project's own backendkit.
    const gate = inProject('npx', [
      'backendkit',
      'health',
      `http://127.0.0.1:${port}`,
      '--wait',
      '--timeout',
      '20s',
    ])
    expect(gate.code, gate.output).toBe(0)

    server.kill('SIGTERM')
    worker.kill('SIGTERM')
    const [[serverCode], [workerCode]] = await Promise.all([
      once(server, 'exit'),
      once(worker, 'exit'),
    ])
    expect(serverCode, server.logs()).toBe(0)
    expect(workerCode, worker.logs()).toBe(0)
  })
})
