// What the maintenance and flags recipes cost a request: the complete service vs the same
// service generated without them (`--without flags,maintenance`), GET /api/posts on one
// database and Redis, same run. The maintenance middleware is in the path of every request (an
// in-memory check); the flags module adds its in-memory store, a subscriber connection and a
// poll in the background.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  apiServerScript,
  backendkitBin,
  builtProject,
  CONNECTIONS,
  compareTargets,
  DURATION_S,
  line,
  ownKeys,
  ROUNDS,
  ratio,
  startServer,
} from '../http.js'
import { adminDatabaseUrl, adminSql, amqpUrl, deleteRedisPrefix, redisUrl } from '../lib.js'
import { postJson } from '../service.js'

export const description = `GET /api/posts, complete service vs the same without flags and maintenance, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs`

export async function run() {
  const database = `bench_flags_http_${process.pid}`
  const prefix = `bench-flags-http-${process.pid}:`
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${database}`
  const servers = []
  const cleanups = []
  try {
    await adminSql(`create database ${database}`)
    const withThem = builtProject([])
    const without = builtProject(['--without', 'flags,maintenance'])
    cleanups.push(withThem.cleanup, without.cleanup)
    const migrate = spawnSync(process.execPath, [backendkitBin, 'migrate', 'up'], {
      cwd: withThem.root,
      env: { ...process.env, DATABASE_URL: url.href },
    })
    if (migrate.status !== 0) throw new Error(`migrate failed: ${migrate.stderr}`)
    const env = {
      DATABASE_URL: url.href,
      REDIS_URL: redisUrl,
      AMQP_URL: amqpUrl,
      REDIS_KEY_PREFIX: prefix,
      QUEUE_PREFIX: `${prefix}bull`,
      JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256-0123456789',
      RATE_LIMIT_MAX: '1000000000',
    }
    for (const { root } of [withThem, without]) {
      writeFileSync(path.join(root, 'bench-api.mjs'), apiServerScript)
    }
    // A Redis prefix each: neither sees the other's rate-limit window or cache entries.
    const a = await startServer(withThem.root, 'bench-api.mjs', ownKeys(env, prefix, 'a'))
    const b = await startServer(without.root, 'bench-api.mjs', ownKeys(env, prefix, 'b'))
    servers.push(a, b)
    const user = await postJson(`${a.base}/api/auth/register`, {
      email: 'bench@example.com',
      username: 'bench',
      password: 'bench password 1',
    })
    const { accessToken } = await postJson(`${a.base}/api/auth/login`, {
      email: 'bench@example.com',
      password: 'bench password 1',
    })
    for (let i = 0; i < 20; i++) {
      await postJson(
        `${a.base}/api/users/${user.id}/posts`,
        { title: `Post ${i}`, body: 'body' },
        { authorization: `Bearer ${accessToken}` },
      )
    }
    const r = await compareTargets({
      without: { server: b, url: `${b.base}/api/posts` },
      with: { server: a, url: `${a.base}/api/posts` },
    })
    return {
      withoutFlagsAndMaintenance: r.without,
      withFlagsAndMaintenance: { ...r.with, ratio: ratio(r.with.reqPerSec, r.without.reqPerSec) },
      cpuRatio: ratio(r.without.cpuMicrosPerRequest, r.with.cpuMicrosPerRequest),
      target: '>= 0.97x',
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
    line('GET /api/posts without', r.withoutFlagsAndMaintenance),
    `${line('GET /api/posts with', r.withFlagsAndMaintenance)}   ${r.withFlagsAndMaintenance.ratio}x (by CPU per request ${r.cpuRatio}x)`,
  ].join('\n')
}
