import { createServer, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { RequestHandler } from 'express'
import { Server, type ServerOptions as SocketIoServerOptions } from 'socket.io'
import { type ServerOptions, WebSocketServer } from 'ws'
import type { Role } from '../auth/schema.js'
import { type AuthService, InvalidTokenError } from '../auth/service.js'
import type { Logger } from '../lib/logger.js'
import { originAllowed, pathOf, refusals, refuseUpgrade, tokenOf } from './handshake.js'
import type { ClientToServerEvents, ServerToClientEvents } from './protocol.js'
import type { Connection, RoomCommands } from './rooms.js'

export interface SocketIoOptions {
  auth: AuthService
  /** CORS_ORIGINS: the browser origins that may connect. */
  origins: readonly string[]
  maxPayloadBytes: number
  pingIntervalMs: number
  pingTimeoutMs: number
  /** How often each socket's access token is checked again (expired, revoked). */
  sessionCheckMs: number
  /** The cluster adapter that carries broadcasts to the other instances. */
  adapter: SocketIoServerOptions['adapter']
  logger: Logger
}

interface SocketData {
  user: { id: string; role: Role }
  token: string
}

export type SocketIoServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Socket.IO at `/socket.io`, on the service's own server without owning it: core routes the
 * path's upgrades (WebSocket transport) and the `raw-body` slot its long-polling requests here,
 * and both are handed to Engine.IO (`engine.handleUpgrade`, `engine.handleRequest`).
 *
 * The handshake: a browser `Origin` outside CORS_ORIGINS is refused (403) before a session
 * exists; the access token travels in the CONNECT packet (`io(url, {auth: {token}})`, never the
 * URL) or an `Authorization` header, and is verified as REST verifies it: without a valid one
 * the client gets `connect_error` with the message `unauthorized`. Engine.IO's heartbeat drops a
 * client that stops answering pings (`pingInterval` + `pingTimeout`); a message larger than
 * `maxPayloadBytes` closes the connection (1009 on a WebSocket).
 */
export class SocketIoEndpoint {
  readonly io: SocketIoServer
  /** The WebSocket server Engine.IO upgrades into, tracked so shutdown can close with 1001. */
  private websockets: WebSocketServer | undefined
  private readonly timers: NodeJS.Timeout[] = []
  private accepting = true

  constructor(private readonly options: SocketIoOptions) {
    const endpoint = this
    /** Engine.IO builds its `ws` server from `wsEngine`: this one keeps the list of clients. */
    class TrackedWebSocketServer extends WebSocketServer {
      constructor(wsOptions: ServerOptions) {
        super({ ...wsOptions, clientTracking: true })
        endpoint.websockets = this
      }
    }
    this.io = new Server({
      serveClient: false,
      // A client must authenticate (CONNECT) soon after its transport is open.
      connectTimeout: 10_000,
      pingInterval: options.pingIntervalMs,
      pingTimeout: options.pingTimeoutMs,
      maxHttpBufferSize: options.maxPayloadBytes,
      wsEngine: TrackedWebSocketServer,
      adapter: options.adapter,
      allowRequest: (req, answer) => {
        const allowed = originAllowed(req.headers.origin, options.origins)
        if (!allowed) this.refused(req, 403, 'origin not allowed')
        answer(allowed ? null : 'origin not allowed', allowed)
      },
    })
    // Socket.IO creates its Engine.IO server when attached to an http.Server. This one never
    // listens: the real requests reach the engine through the handlers below. (Engine.IO is
    // Socket.IO's dependency, not this project's, so it is not imported directly.)
    this.io.attach(createServer())
    this.io.use(async (socket, next) => {
      const fromAuth = (socket.handshake.auth as { token?: unknown }).token
      const token = typeof fromAuth === 'string' ? fromAuth : tokenOf(socket.handshake.headers)
      try {
        if (!token) throw new InvalidTokenError()
        socket.data.user = await options.auth.authenticate(token)
        socket.data.token = token
        next()
      } catch (error) {
        if (error instanceof InvalidTokenError) {
          this.refused(socket.request, 401, 'invalid token')
          next(new Error('unauthorized'))
          return
        }
        options.logger.warn({ err: error }, 'cannot check a Socket.IO access token')
        next(new Error('unavailable'))
      }
    })
  }

  /** Open Engine.IO sessions on this instance, whatever their transport. */
  get size(): number {
    return this.io.engine.clientsCount
  }

  /** Starts serving connections with these commands. */
  serve(commands: RoomCommands): void {
    this.io.on('connection', (socket) => {
      const connection: Connection = {
        id: socket.id,
        transport: 'socket.io',
        user: socket.data.user,
        typedAt: new Map(),
        postRooms: () => [...socket.rooms].filter((room) => room.startsWith('post:')).length,
        has: (room) => socket.rooms.has(room),
        join: (room) => void socket.join(room),
        leave: (room) => void socket.leave(room),
      }
      socket.on('post:subscribe', async (data, ack) => {
        const reply = await commands.subscribe(connection, data)
        if (typeof ack === 'function') ack(reply)
      })
      socket.on('post:unsubscribe', (data, ack) => {
        const reply = commands.unsubscribe(connection, data)
        if (typeof ack === 'function') ack(reply)
      })
      socket.on('typing', (data) => commands.typing(connection, data))
    })
    const sessions = setInterval(() => void this.checkSessions(), this.options.sessionCheckMs)
    sessions.unref()
    this.timers.push(sessions)
  }

  /** The upgrade handler for `/socket.io` (the WebSocket transport). */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!this.accepting) {
      socket.on('error', () => {})
      refuseUpgrade(socket, refusals.shuttingDown)
      return
    }
    this.io.engine.handleUpgrade(req, socket, head)
  }

  /** The long-polling transport's requests (mounted on `/socket.io` in the `raw-body` slot). */
  handleRequest: RequestHandler = (req, res) => {
    if (!this.accepting) {
      const { status, code, message, headers } = refusals.shuttingDown
      res.status(status).set(headers).json({ error: { message, code } })
      return
    }
    this.io.engine.handleRequest(req, res)
  }

  /**
   * Stops accepting and closes every session: WebSockets with `code` (1001 "going away" on
   * shutdown), long-polling ones by answering their pending poll. The clients reconnect, to
   * another instance. Resolves once every session is gone.
   */
  async closeAll(code: number, reason: string): Promise<void> {
    this.accepting = false
    for (const websocket of this.websockets?.clients ?? []) websocket.close(code, reason)
    this.io.engine.close()
    while (this.io.engine.clientsCount > 0 || (this.websockets?.clients.size ?? 0) > 0) {
      await sleep(10)
    }
  }

  /** Drops every session at once (the shutdown's deadline passed). */
  terminate(): void {
    this.accepting = false
    for (const websocket of this.websockets?.clients ?? []) websocket.terminate()
    this.io.engine.close()
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.terminate()
    // Closes the adapter (and its Redis connections) too.
    await this.io.close()
  }

  /** Ends the sockets whose token expired or was revoked: `disconnect` "io server disconnect". */
  private async checkSessions(): Promise<void> {
    for (const socket of this.io.of('/').sockets.values()) {
      try {
        await this.options.auth.authenticate(socket.data.token)
      } catch (error) {
        if (error instanceof InvalidTokenError) socket.disconnect(true)
      }
    }
  }

  private refused(req: IncomingMessage, status: number, reason: string): void {
    this.options.logger.info({ path: pathOf(req), status, reason }, 'Socket.IO handshake refused')
  }
}
