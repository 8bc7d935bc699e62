import { describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import { realtime } from '../src/realtime/module.js'
import { redis } from '../src/redis/module.js'
import { rest } from '../src/rest/module.js'
import { authTestEnv, bearer, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import { type ClientSocket, connectSocketIo, connectWs, sleep } from './support/realtime.js'
import { useRedisPrefix } from './support/redis.js'
import { serveApp } from './support/serve.js'

const db = useTestDatabase()
const testRedis = useRedisPrefix()

/** The close code a Socket.IO client's WebSocket got, and the reason Socket.IO gave. */
function disconnection(socket: ClientSocket): Promise<{ reason: string; code?: number }> {
  return new Promise((resolve) =>
    socket.once('disconnect', (reason, details) => {
      const context = (details as { context?: { code?: number } } | undefined)?.context
      resolve({ reason, code: context?.code })
    }),
  )
}

describe('shutdown with open realtime connections', () => {
  it('SIGTERM with 200 connected sockets: each is closed with 1001 after the delay, and the process exits 0 in time', {
    timeout: 30_000,
  }, async () => {
    const delayMs = 500
    const timeoutMs = 8_000
    const served = await serveApp({
      modules: [database, redis, auth, rest, realtime],
      env: {
        DATABASE_URL: db.url,
        ...testRedis.env,
        ...authTestEnv,
        SHUTDOWN_DELAY_MS: String(delayMs),
        SHUTDOWN_TIMEOUT_MS: String(timeoutMs),
      },
    })
    try {
      const { accessToken } = await signUp(served.url)
      const wsClients = await Promise.all(
        Array.from({ length: 100 }, () => connectWs(served.url, { headers: bearer(accessToken) })),
      )
      const websocketClients = await Promise.all(
        Array.from({ length: 98 }, () => connectSocketIo(served.url, accessToken)),
      )
      // Long-polling holds a request open at the server: shutdown must answer it too.
      const pollingClients = await Promise.all(
        Array.from({ length: 2 }, () =>
          connectSocketIo(served.url, accessToken, { transports: ['polling'] }),
        ),
      )
      const wsCodes = Promise.all(wsClients.map((client) => client.closed))
      const websocketEnds = Promise.all(websocketClients.map(disconnection))
      const pollingEnds = Promise.all(pollingClients.map(disconnection))

      const signalledAt = performance.now()
      served.signal('SIGTERM')
      // Readiness is 503 at once; the sockets stay open while the load balancer notices.
      expect((await fetch(`${served.url}/health/ready`)).status).toBe(503)
      await sleep(delayMs / 2)
      expect(wsClients.every((client) => client.socket.readyState === client.socket.OPEN)).toBe(
        true,
      )
      expect(websocketClients.every((socket) => socket.connected)).toBe(true)

      // Past SHUTDOWN_TIMEOUT_MS the shutdown would cut everything and exit 1.
      expect(await served.exited).toBe(0)
      const exitedAfter = performance.now() - signalledAt
      expect(exitedAfter).toBeGreaterThanOrEqual(delayMs - 50)
      expect(exitedAfter).toBeLessThan(delayMs + 3_000)

      expect(new Set(await wsCodes)).toEqual(new Set([1001]))
      const websocket = await websocketEnds
      expect(new Set(websocket.map((end) => end.code))).toEqual(new Set([1001]))
      expect(new Set(websocket.map((end) => end.reason))).toEqual(new Set(['transport close']))
      expect((await pollingEnds).map((end) => end.reason)).toEqual([
        'transport close',
        'transport close',
      ])
      for (const socket of [...websocketClients, ...pollingClients]) socket.close()
    } finally {
      await served.close()
    }
  })
})
