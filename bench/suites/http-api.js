// The complete generated service's API on a real database vs a bare Express 5 JSON route:
// GET /api/posts/:id (a primary-key read through kysely/pg) and GET /api/users/:id (access
// token verification + a primary-key read), same run.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  backendkitBin,
  bareExpressServer,
  builtProject,
  CONNECTIONS,
  compareTargets,
  DURATION_S,
  line,
  ROUNDS,
  ratio,
  startServer,
} from '../http.js'
import { adminDatabaseUrl, adminSql } from '../lib.js'

const apiServer = `
import { createApp } from './dist/app.js'
import { loadConfig } from './dist/config.js'
import { createLogger } from './dist/lib/logger.js'
import { modules } from './dist/modules.js'
const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info' }, modules)
const app = await createApp({ config, logger: createLogger(config.core), modules })
const server = app.express.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('message', () => process.send(process.cpuUsage()))
`

async function postJson(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  return res.json()
}

export const description = `complete service API vs bare Express 5, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs`

export async function run() {
  const database = `bench_api_${process.pid}`
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${database}`
  const servers = []
  const cleanups = []
  try {
    await adminSql(`create database ${database}`)
    const { root, cleanup } = builtProject([])
    cleanups.push(cleanup)
    const migrate = spawnSync(process.execPath, [backendkitBin, 'migrate', 'up'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url.href },
    })
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`)
    writeFileSync(path.join(root, 'bench-bare.mjs'), bareExpressServer)
    writeFileSync(path.join(root, 'bench-api.mjs'), apiServer)
    const bare = await startServer(root, 'bench-bare.mjs')
    const api = await startServer(root, 'bench-api.mjs', {
      DATABASE_URL: url.href,
      JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-0123456789',
    })
    servers.push(bare, api)
    const user = await postJson(`${api.base}/api/auth/register`, {
      email: 'bench@example.com',
      username: 'bench',
      password: 'bench password 1',
    })
    const { accessToken } = await postJson(`${api.base}/api/auth/login`, {
      email: 'bench@example.com',
      password: 'bench password 1',
    })
    const auth = { authorization: `Bearer ${accessToken}` }
    const post = await postJson(
      `${api.base}/api/users/${user.id}/posts`,
      { title: 'Bench', body: 'body' },
      auth,
    )
    const r = await compareTargets({
      bare: { server: bare, url: `${bare.base}/json` },
      post: { server: api, url: `${api.base}/api/posts/${post.id}` },
      user: { server: api, url: `${api.base}/api/users/${user.id}`, headers: auth },
    })
    return {
      bare: r.bare,
      postById: { ...r.post, ratio: ratio(r.post.reqPerSec, r.bare.reqPerSec) },
      userByIdWithAuth: { ...r.user, ratio: ratio(r.user.reqPerSec, r.bare.reqPerSec) },
    }
  } finally {
    for (const server of servers) server.child.kill()
    await adminSql(`drop database if exists ${database} with (force)`)
    for (const cleanup of cleanups) cleanup()
  }
}

export function summary(r) {
  return [
    line('bare Express 5 JSON', r.bare),
    `${line('GET /api/posts/:id (pg)', r.postById)}   ${r.postById.ratio}x`,
    `${line('GET /api/users/:id (JWT+pg)', r.userByIdWithAuth)}   ${r.userByIdWithAuth.ratio}x`,
  ].join('\n')
}
