import { createAdapter } from '@socket.io/redis-streams-adapter'
import { z } from 'zod'
import type { Drainable } from '../lib/shutdown.js'
import { defineModule, requireService } from '../module.js'
import { Fanout } from './fanout.js'
import { postRoom } from './protocol.js'
import { RoomCommands } from './rooms.js'
import { SocketIoEndpoint } from './socket-io.js'
import { PlainWebSockets } from './ws-server.js'

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback)

export const realtimeEnv = z.object({
  /** The server pings every client this often… */
  REALTIME_PING_INTERVAL_MS: ms(25_000),
  /** …and drops one that has not answered this long after. */
  REALTIME_PING_TIMEOUT_MS: ms(20_000),
  /** Largest message a client may send; a larger one closes its connection (1009). */
  REALTIME_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(16_384),
  /** How often open connections' access tokens are checked again (expired or revoked). */
  REALTIME_SESSION_CHECK_MS: ms(30_000),
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Realtime: Socket.IO at /socket.io and a plain WebSocket endpoint at /ws on the service's own
 * server, both authenticated with the REST access token. Clients follow posts (rooms) and
 * receive their new comments and who is typing, whichever instance they are connected to:
 * Socket.IO through the Redis streams adapter, /ws through Redis pub/sub. The server process
 * serves them; the worker starts nothing here.
 */
export const realtime = defineModule({
  name: 'realtime',
  env: realtimeEnv,
  init({ env, role, core, services, logger }) {
    if (role !== 'server') return {}
    const redis = requireService(services, 'redis', 'realtime')
    const auth = requireService(services, 'auth', 'realtime')
    const posts = requireService(services, 'posts', 'realtime')
    const common = {
      auth,
      origins: core.CORS_ORIGINS,
      maxPayloadBytes: env.REALTIME_MAX_PAYLOAD_BYTES,
      pingIntervalMs: env.REALTIME_PING_INTERVAL_MS,
      pingTimeoutMs: env.REALTIME_PING_TIMEOUT_MS,
      sessionCheckMs: env.REALTIME_SESSION_CHECK_MS,
      logger,
    }
    // The streams adapter appends broadcasts to a Redis stream that every instance reads from
    // its last position: a broadcast made while Redis is away waits in the connection's offline
    // queue, and one made while another instance's reader is away is read when it is back. (The
    // pub/sub adapters lose both.) Its connections wait for Redis rather than fail.
    const socketIo = new SocketIoEndpoint({
      ...common,
      adapter: createAdapter(redis.connect('worker'), {
        streamName: redis.key('socket.io'),
        channelPrefix: redis.key('socket.io'),
        sessionKeyPrefix: redis.key('socket.io', 'session:'),
        onlyPlaintext: true,
      }),
    })
    const websockets = new PlainWebSockets(common)
    const fanout = new Fanout(
      socketIo.io,
      websockets,
      {
        publisher: redis.client,
        subscriber: redis.connect('subscriber'),
        channel: redis.key('realtime', 'ws'),
      },
      logger,
    )
    fanout.start()
    const commands = new RoomCommands(posts, fanout, logger)
    socketIo.serve(commands)
    websockets.serve(commands)
    const unsubscribe = services.events.on('comment.created', ({ payload }) => {
      fanout.toRoom(postRoom(payload.post.id), 'comment:created', payload.comment)
    })

    const closeSockets: Drainable = {
      async drain() {
        // Serve on while the load balancer notices readiness is 503 (as HTTP does), so that the
        // clients, told to go away, reconnect to another instance rather than to this one.
        await sleep(core.SHUTDOWN_DELAY_MS)
        const reason = 'server shutting down'
        await Promise.all([socketIo.closeAll(1001, reason), websockets.closeAll(1001, reason)])
        logger.info('realtime connections closed')
      },
      abort() {
        socketIo.terminate()
        websockets.terminate()
      },
    }

    return {
      upgrades: [
        { path: '/socket.io', handle: socketIo.handleUpgrade },
        {
          path: '/ws',
          handle: (req, socket, head) => void websockets.handleUpgrade(req, socket, head),
        },
      ],
      middleware: [{ slot: 'raw-body', path: '/socket.io', handler: socketIo.handleRequest }],
      drain: [closeSockets],
      gauges: [
        {
          name: 'realtime_connections',
          help: 'Open realtime connections on this instance, by transport',
          labelNames: ['transport'],
          collect: () => [
            { labels: { transport: 'socket.io' }, value: socketIo.size },
            { labels: { transport: 'ws' }, value: websockets.size },
          ],
        },
      ],
      async stop() {
        unsubscribe()
        websockets.stop()
        await socketIo.stop()
      },
    }
  },
})
