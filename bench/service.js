// Shared by the benchmarks that run a generated service as a user would: a project built with
// `backendkit new`, migrated by `backendkit migrate up` on a scratch database, served by several
// instances (processes) on one database and one Redis prefix.

import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { apiServerScript, backendkitBin, builtProject, startServer } from './http.js'
import { adminDatabaseUrl, adminSql, amqpUrl, deleteRedisPrefix, redisUrl } from './lib.js'

/**
 * One instance: the app served the way src/server.ts serves it (listen, then route the modules'
 * WebSocket upgrades). Over IPC it sends its port once listening, and answers `stats` with its
 * CPU time and the services' counters (the ledger's commands and retries).
 */
const instanceScript = `
import { createApp } from './dist/app.js'
import { loadConfig } from './dist/config.js'
import { loadConventions } from './dist/conventions.js'
import { createLogger } from './dist/lib/logger.js'
import { modules } from './dist/modules.js'
const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn' }, modules)
const app = await createApp({ config, conventions: loadConventions(), logger: createLogger(config.core), modules })
const server = app.express.listen(0, '127.0.0.1', () => process.send(server.address().port))
app.attach(server)
process.on('message', () => process.send({ cpu: process.cpuUsage(), ledger: app.services.ledger?.stats }))
`

export const jwtSecret = 'bench-secret-that-is-long-enough-for-hs256-0123456789'

/**
 * Generates and builds a project with `args` (e.g. `--recipes realtime`), creates and migrates a
 * database for it. `cleanup()` stops the instances, drops the database, deletes the Redis prefix.
 */
export async function servedProject(name, args) {
  const database = `bench_${name}_${process.pid}`
  const prefix = `bench-${name}-${process.pid}:`
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${database}`
  const instances = []
  await adminSql(`create database ${database}`)
  let project
  try {
    project = builtProject(args)
    const migrate = spawnSync(process.execPath, [backendkitBin, 'migrate', 'up'], {
      cwd: project.root,
      env: { ...process.env, DATABASE_URL: url.href },
    })
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`)
    writeFileSync(path.join(project.root, 'bench-instance.mjs'), instanceScript)
  } catch (error) {
    project?.cleanup()
    await adminSql(`drop database if exists ${database} with (force)`)
    throw error
  }
  const env = {
    DATABASE_URL: url.href,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: jwtSecret,
  }
  return {
    root: project.root,
    databaseUrl: url.href,
    /** Starts one more instance; `base` is its URL. */
    async start(extraEnv = {}) {
      const instance = await startServer(project.root, 'bench-instance.mjs', {
        ...env,
        ...extraEnv,
      })
      instances.push(instance)
      return instance
    },
    async cleanup() {
      for (const { child } of instances) child.kill()
      await Promise.all(instances.map(({ child }) => once(child, 'exit')))
      await adminSql(`drop database if exists ${database} with (force)`)
      await deleteRedisPrefix(prefix)
      project.cleanup()
    },
  }
}

/**
 * Projects generated with each of `variants` (a name → `backendkit new` arguments, e.g.
 * `{ with: [], without: ['--without', 'observability'] }`), built, on one scratch database that
 * `backendkit migrate up` of the first migrates. `start(variant)` serves one more API of a variant
 * (`bench-api.mjs`, or another script written into `root(variant)`), with `env`, under a Redis
 * prefix of its own: no server sees another's rate-limit windows or cache entries. `cleanup()`
 * stops them, drops the database, deletes every key and the projects.
 */
export async function servedVariants(name, variants, env = {}) {
  const database = `bench_${name}_${process.pid}`
  const prefix = `bench-${name}-${process.pid}:`
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${database}`
  const servers = []
  const projects = {}
  const cleanup = async () => {
    for (const { child } of servers) child.kill()
    await Promise.all(servers.map(({ child }) => child.exitCode ?? once(child, 'exit')))
    await adminSql(`drop database if exists ${database} with (force)`)
    await deleteRedisPrefix(prefix)
    for (const project of Object.values(projects)) project.cleanup()
  }
  await adminSql(`create database ${database}`)
  try {
    for (const [variant, args] of Object.entries(variants)) {
      projects[variant] = builtProject(args)
      writeFileSync(path.join(projects[variant].root, 'bench-api.mjs'), apiServerScript)
    }
    const first = Object.values(projects)[0]
    const migrate = spawnSync(process.execPath, [backendkitBin, 'migrate', 'up'], {
      cwd: first.root,
      env: { ...process.env, DATABASE_URL: url.href },
    })
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`)
  } catch (error) {
    await cleanup()
    throw error
  }
  const shared = {
    DATABASE_URL: url.href,
    REDIS_URL: redisUrl,
    AMQP_URL: amqpUrl,
    JWT_SECRET: jwtSecret,
    RATE_LIMIT_MAX: '1000000000',
    METRICS_PORT: '0',
    ...env,
  }
  return {
    root: (variant) => projects[variant].root,
    async start(variant, extraEnv = {}, file = 'bench-api.mjs') {
      const keys = `${prefix}${servers.length}:`
      const server = await startServer(projects[variant].root, file, {
        ...shared,
        REDIS_KEY_PREFIX: keys,
        QUEUE_PREFIX: `${keys}bull`,
        ...extraEnv,
      })
      servers.push(server)
      return server
    },
    cleanup,
  }
}

/** An instance's CPU time (µs) and service counters, asked over IPC. */
export async function statsOf(instance) {
  instance.child.send('stats')
  const [stats] = await once(instance.child, 'message')
  return { cpuMicros: stats.cpu.user + stats.cpu.system, ledger: stats.ledger }
}

export async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  return res.json()
}

/** Registers a user and signs in: its id and access token. */
export async function signUp(base, name) {
  const credentials = { email: `${name}@example.com`, password: `${name} password 1` }
  const user = await postJson(`${base}/api/auth/register`, { ...credentials, username: name })
  const { accessToken } = await postJson(`${base}/api/auth/login`, credentials)
  return { id: user.id, accessToken, headers: { authorization: `Bearer ${accessToken}` } }
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[rank]
}
