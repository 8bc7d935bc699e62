// Shared by the HTTP benchmarks: start servers as child processes, load them with autocannon
// in alternation, and report req/s, p99 and the server's own CPU time per request.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { median } from './lib.js'

export const CONNECTIONS = 64
export const DURATION_S = 5
export const ROUNDS = 4

/** The bare Express 5 baseline every HTTP benchmark compares with. */
export const bareExpressServer = `
import express from 'express'
const app = express()
app.get('/json', (_req, res) => { res.json({ hello: 'world' }) })
app.listen(0, '127.0.0.1', function () { process.send(this.address().port) })
process.on('message', () => process.send(process.cpuUsage()))
`

/**
 * A generated service's API as src/server.ts serves it, in production mode, for a suite to write
 * into the project (`bench-api.mjs`): it sends its port once listening and its CPU time when asked.
 */
export const apiServerScript = `
import { createApp } from './dist/app.js'
import { loadConfig } from './dist/config.js'
import { loadConventions } from './dist/conventions.js'
import { createLogger } from './dist/lib/logger.js'
import { modules } from './dist/modules.js'
const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info' }, modules)
const app = await createApp({ config, conventions: loadConventions(), logger: createLogger(config.core), modules })
const server = app.express.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('message', () => process.send(process.cpuUsage()))
`

/** A server script must send its port over IPC once listening, and its cpuUsage() when asked. */
export async function startServer(cwd, file, env = {}) {
  const child = spawn(process.execPath, [file], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const [port] = await once(child, 'message')
  return { child, base: `http://127.0.0.1:${port}` }
}

async function cpuMicros(child) {
  child.send('cpu')
  const [usage] = await once(child, 'message')
  return usage.user + usage.system
}

/**
 * req/s swings by ±20 % between runs on this VM; the server's CPU time per request does not, so
 * both are reported.
 */
async function load(target) {
  const before = await cpuMicros(target.server.child)
  const result = await autocannon({
    url: target.url,
    headers: target.headers,
    connections: CONNECTIONS,
    duration: DURATION_S,
  })
  const cpu = (await cpuMicros(target.server.child)) - before
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${target.url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  }
  return {
    reqPerSec: result.requests.average,
    p99Ms: result.latency.p99,
    cpu: cpu / result.requests.total,
  }
}

/** Loads each target (url + optional headers) in turn, `rounds` times; medians per target. */
export async function compareTargets(targets, { rounds = ROUNDS } = {}) {
  for (const target of Object.values(targets)) {
    await autocannon({
      url: target.url,
      headers: target.headers,
      connections: CONNECTIONS,
      duration: 2,
    }) // JIT warm-up
  }
  const samples = Object.fromEntries(Object.keys(targets).map((name) => [name, []]))
  // The order turns every round (A B, B A, …): whatever a run leaves behind (PostgreSQL's and
  // Redis's work, the CPU's heat) weighs on each target alike.
  const entries = Object.entries(targets)
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? entries : [...entries].reverse()
    for (const [name, target] of order) samples[name].push(await load(target))
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, list]) => [
      name,
      {
        reqPerSec: Math.round(median(list.map((s) => s.reqPerSec))),
        p99Ms: median(list.map((s) => s.p99Ms)),
        cpuMicrosPerRequest: Math.round(median(list.map((s) => s.cpu))),
      },
    ]),
  )
}

export const ratio = (a, b) => Math.round((a / b) * 100) / 100

export function line(label, r) {
  return `${label.padEnd(28)} ${r.reqPerSec} req/s   p99 ${r.p99Ms} ms   ${r.cpuMicrosPerRequest} µs CPU/request`
}

const repo = fileURLToPath(new URL('..', import.meta.url))
export const backendkitBin = path.join(repo, 'bin/backendkit.js')

/**
 * Generates a project with `backendkit new <args>` into a temp folder, links this repo's
 * node_modules (the same versions by construction) and builds it. Returns its root and a
 * cleanup function.
 */
export function builtProject(args) {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-bench-'))
  const root = path.join(cwd, 'svc')
  const cleanup = () => rmSync(cwd, { recursive: true, force: true })
  const made = spawnSync(
    process.execPath,
    [backendkitBin, 'new', 'svc', ...args, '--no-install', '--no-git'],
    { cwd },
  )
  if (made.status !== 0) {
    cleanup()
    throw new Error(`backendkit new failed: ${made.stderr}`)
  }
  symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  if (spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' }).status !== 0) {
    cleanup()
    throw new Error('building the generated project failed')
  }
  return { root, cleanup }
}
