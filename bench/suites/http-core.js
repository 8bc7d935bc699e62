// The generated service's whole middleware chain on a JSON route vs a bare Express 5 JSON
// route, same machine, same run, autocannon on loopback for a fixed duration each.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { median } from '../lib.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const bin = path.join(repo, 'bin/backendkit.js')
const DURATION_S = 5
const ROUNDS = 3
const CONNECTIONS = 64

const bareServer = `
import express from 'express'
const app = express()
app.get('/json', (_req, res) => { res.json({ hello: 'world' }) })
app.listen(0, '127.0.0.1', function () { process.send(this.address().port) })
process.on('message', () => process.send(process.cpuUsage()))
`

// The generated app as server.ts builds it (real config, logger at info, every core
// middleware), plus one module whose route answers the same JSON as the bare server.
const generatedServer = `
import { Router } from 'express'
import { z } from 'zod'
import { createApp } from './dist/app.js'
import { loadConfig } from './dist/config.js'
import { createLogger } from './dist/lib/logger.js'
import { defineModule } from './dist/module.js'
const bench = defineModule({
  name: 'bench',
  env: z.object({}),
  init() {
    const router = Router()
    router.get('/json', (_req, res) => { res.json({ hello: 'world' }) })
    return { routes: [{ path: '/', router }] }
  },
})
const modules = [bench]
const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info' }, modules)
const app = await createApp({ config, logger: createLogger(config.core), modules })
const server = app.express.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('message', () => process.send(process.cpuUsage()))
`

async function start(cwd, file) {
  const child = spawn(process.execPath, [file], {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const [port] = await once(child, 'message')
  const url = `http://127.0.0.1:${port}/json`
  await autocannon({ url, connections: CONNECTIONS, duration: 2 }) // warm-up (JIT)
  return { child, url }
}

async function cpuMicros(child) {
  child.send('cpu')
  const [usage] = await once(child, 'message')
  return usage.user + usage.system
}

/**
 * req/s swings by ±20 % between runs on this VM; the server's own CPU time per request does
 * not, so both are reported.
 */
async function load({ url, child }) {
  const before = await cpuMicros(child)
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S })
  const cpu = (await cpuMicros(child)) - before
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return {
    reqPerSec: result.requests.average,
    p99Ms: result.latency.p99,
    cpuMicrosPerRequest: cpu / result.requests.total,
  }
}

/** Both servers up at once, loaded in alternation: noise on this VM hits both alike. */
async function compare(cwd) {
  const bare = await start(cwd, 'bench-bare.mjs')
  const generated = await start(cwd, 'bench-generated.mjs')
  const samples = { bare: [], generated: [] }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      samples.bare.push(await load(bare))
      samples.generated.push(await load(generated))
    }
  } finally {
    bare.child.kill()
    generated.child.kill()
  }
  const summarise = (list) => ({
    reqPerSec: Math.round(median(list.map((s) => s.reqPerSec))),
    p99Ms: median(list.map((s) => s.p99Ms)),
    cpuMicrosPerRequest: Math.round(median(list.map((s) => s.cpuMicrosPerRequest))),
  })
  return { bare: summarise(samples.bare), generated: summarise(samples.generated) }
}

export const description = `generated core service vs bare Express 5, GET JSON, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs`

export async function run() {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-bench-http-'))
  try {
    const made = spawnSync(
      process.execPath,
      [bin, 'new', 'svc', '--recipes', 'core', '--no-install', '--no-git'],
      { cwd },
    )
    if (made.status !== 0) throw new Error('backendkit new failed')
    const root = path.join(cwd, 'svc')
    symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'), 'dir')
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' })
    if (build.status !== 0) throw new Error('building the generated project failed')
    writeFileSync(path.join(root, 'bench-bare.mjs'), bareServer)
    writeFileSync(path.join(root, 'bench-generated.mjs'), generatedServer)
    const { bare, generated } = await compare(root)
    return {
      bare,
      generated,
      ratio: Math.round((generated.reqPerSec / bare.reqPerSec) * 100) / 100,
      cpuRatio: Math.round((bare.cpuMicrosPerRequest / generated.cpuMicrosPerRequest) * 100) / 100,
      target: '>= 0.6x',
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}

export function summary(r) {
  return [
    `bare Express 5     ${r.bare.reqPerSec} req/s   p99 ${r.bare.p99Ms} ms   ${r.bare.cpuMicrosPerRequest} µs CPU/request`,
    `generated service  ${r.generated.reqPerSec} req/s   p99 ${r.generated.p99Ms} ms   ${r.generated.cpuMicrosPerRequest} µs CPU/request`,
    `ratio ${r.ratio}x req/s, ${r.cpuRatio}x by CPU per request (target ${r.target})`,
  ].join('\n')
}
