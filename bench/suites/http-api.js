// The complete generated service's API on a real database and Redis vs a bare Express 5 JSON
// route, same run: GET /api/posts/:id (rate limit + the Redis cache), GET /api/users/:id (access
// token + rate limit + the Redis cache), and GET /api/users/:id with the cache off (access token
// + rate limit + a PostgreSQL primary-key read). The limit is set high enough never to refuse:
// every request still makes its Redis call.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  apiServerScript,
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
import { adminDatabaseUrl, adminSql, amqpUrl, deleteRedisPrefix, redisUrl } from '../lib.js'
import { postJson } from '../service.js'

export const description = `complete service API vs bare Express 5, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs`

export async function run() {
  const database = `bench_api_${process.pid}`
  const prefix = `bench-api-${process.pid}:`
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
    writeFileSync(path.join(root, 'bench-api.mjs'), apiServerScript)
    const bare = await startServer(root, 'bench-bare.mjs')
    const env = {
      DATABASE_URL: url.href,
      REDIS_URL: redisUrl,
      AMQP_URL: amqpUrl,
      REDIS_KEY_PREFIX: prefix,
      QUEUE_PREFIX: `${prefix}bull`,
      JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-0123456789',
      RATE_LIMIT_MAX: '1000000000',
      METRICS_PORT: '0',
    }
    const api = await startServer(root, 'bench-api.mjs', env)
    const uncached = await startServer(root, 'bench-api.mjs', { ...env, CACHE_ENABLED: 'false' })
    servers.push(bare, api, uncached)
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
      userFromDb: { server: uncached, url: `${uncached.base}/api/users/${user.id}`, headers: auth },
    })
    const vsBare = (x) => ({ ...x, ratio: ratio(x.reqPerSec, r.bare.reqPerSec) })
    return {
      bare: r.bare,
      postByIdCached: vsBare(r.post),
      userByIdCached: vsBare(r.user),
      userByIdFromPostgres: vsBare(r.userFromDb),
      targets: { postByIdCached: '>= 0.40x', userByIdFromPostgres: '>= 0.25x, p99 < 50 ms' },
    }
  } finally {
    for (const server of servers) server.child.kill()
    await adminSql(`drop database if exists ${database} with (force)`)
    await deleteRedisPrefix(prefix)
    for (const cleanup of cleanups) cleanup()
  }
}

export function summary(r) {
  return [
    line('bare Express 5 JSON', r.bare),
    `${line('GET /api/posts/:id (cached)', r.postByIdCached)}   ${r.postByIdCached.ratio}x`,
    `${line('GET /api/users/:id (cached)', r.userByIdCached)}   ${r.userByIdCached.ratio}x`,
    `${line('GET /api/users/:id (pg)', r.userByIdFromPostgres)}   ${r.userByIdFromPostgres.ratio}x`,
  ].join('\n')
}
