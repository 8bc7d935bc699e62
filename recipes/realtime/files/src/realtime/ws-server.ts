import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import type { Role } from '../auth/schema.js'
import { type AuthService, InvalidTokenError } from '../auth/service.js'
import type { Logger } from '../lib/logger.js'
import type { LocalRooms } from './fanout.js'
import {
  bearerProtocol,
  originAllowed,
  pathOf,
  type Refusal,
  refusals,
  refuseUpgrade,
  tokenOf,
} from './handshake.js'
import { type ServerEventName, type ServerEvents, wsFrame } from './protocol.js'
import type { Connection, RoomCommands } from './rooms.js'

export interface PlainWebSocketsOptions {
  auth: AuthService
  /** CORS_ORIGINS: the browser origins that may connect. */
  origins: readonly string[]
  maxPayloadBytes: number
  pingIntervalMs: number
  pingTimeoutMs: number
  /** How often each connection's access token is checked again (expired, revoked). */
  sessionCheckMs: number
  logger: Logger
}

/** A client whose sends pile up beyond this is too slow to follow: it is dropped. */
const maxBufferedBytes = 1024 * 1024

class WsConnection implements Connection {
  readonly id = randomUUID()
  readonly transport = 'ws'
  readonly rooms = new Set<string>()
  readonly typedAt = new Map<string, number>()
  /** The last sign of life: a pong or a message. */
  lastSeen = Date.now()

  constructor(
    readonly socket: WebSocket,
    readonly user: { id: string; role: Role },
    readonly token: string,
    private readonly members: Map<string, Set<WsConnection>>,
  ) {}

  postRooms() {
    return this.rooms.size
  }

  has(room: string) {
    return this.rooms.has(room)
  }

  join(room: string) {
    this.rooms.add(room)
    const members = this.members.get(room) ?? new Set()
    members.add(this)
    this.members.set(room, members)
  }

  leave(room: string) {
    this.rooms.delete(room)
    const members = this.members.get(room)
    members?.delete(this)
    if (members?.size === 0) this.members.delete(room)
  }

  send(frame: string) {
    if (this.socket.readyState !== WebSocket.OPEN) return
    if (this.socket.bufferedAmount > maxBufferedBytes) {
      this.socket.terminate()
      return
    }
    this.socket.send(frame)
  }
}

/**
 * A plain WebSocket endpoint (`ws` in noServer mode: it is handed the upgrades core routes to
 * `/ws`, and never owns the server). Each frame is JSON (see protocol.ts). The handshake is
 * refused with an HTTP status before any WebSocket exists: 401 without a valid access token,
 * 403 from a browser origin outside CORS_ORIGINS, 503 while the instance shuts down. A frame
 * larger than `maxPayloadBytes` closes the connection with 1009. The server pings every
 * `pingIntervalMs`; a connection silent for longer than that plus `pingTimeoutMs` (a client that
 * vanished without closing: a dead network, a suspended laptop) is dropped.
 */
export class PlainWebSockets implements LocalRooms {
  private readonly wss: WebSocketServer
  private readonly connections = new Set<WsConnection>()
  private readonly rooms = new Map<string, Set<WsConnection>>()
  private readonly timers: NodeJS.Timeout[] = []
  private commands: RoomCommands | undefined
  private accepting = true

  constructor(private readonly options: PlainWebSocketsOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxPayloadBytes,
      // A browser offering `bearer, <token>` must get a protocol back, or it drops the socket.
      handleProtocols: (protocols) => (protocols.has(bearerProtocol) ? bearerProtocol : false),
    })
  }

  get size(): number {
    return this.connections.size
  }

  /** Starts serving connections with these commands, and the heartbeat. */
  serve(commands: RoomCommands): void {
    this.commands = commands
    const heartbeat = setInterval(() => this.beat(), this.options.pingIntervalMs)
    const sessions = setInterval(() => void this.checkSessions(), this.options.sessionCheckMs)
    for (const timer of [heartbeat, sessions]) {
      timer.unref()
      this.timers.push(timer)
    }
  }

  /** The upgrade handler for `/ws`. */
  handleUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // Until ws takes the socket over, a reset connection must not become an uncaught error.
    const ignore = () => {}
    socket.on('error', ignore)
    const refuse = (refusal: Refusal, reason: string) => {
      this.options.logger.info(
        { path: pathOf(req), status: refusal.status, reason },
        'WebSocket refused',
      )
      refuseUpgrade(socket, refusal)
    }
    if (!this.accepting || !this.commands) return refuse(refusals.shuttingDown, 'shutting down')
    if (!originAllowed(req.headers.origin, this.options.origins)) {
      return refuse(refusals.foreignOrigin, 'origin not allowed')
    }
    const token = tokenOf(req.headers)
    if (!token) return refuse(refusals.unauthorized, 'no access token')
    let user: { id: string; role: Role }
    try {
      user = await this.options.auth.authenticate(token)
    } catch (error) {
      if (error instanceof InvalidTokenError) return refuse(refusals.unauthorized, 'invalid token')
      this.options.logger.warn({ err: error }, 'cannot check a WebSocket access token')
      return refuse(refusals.unavailable, 'token check failed')
    }
    if (!this.accepting) return refuse(refusals.shuttingDown, 'shutting down')
    if (socket.destroyed) return
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', ignore)
      this.accept(ws, user, token)
    })
  }

  deliver<E extends ServerEventName>(
    room: string,
    event: E,
    data: ServerEvents[E],
    exceptId?: string,
  ): void {
    const members = this.rooms.get(room)
    if (!members) return
    const frame = JSON.stringify({ event, data })
    for (const connection of members) if (connection.id !== exceptId) connection.send(frame)
  }

  /**
   * Stops accepting, closes every connection with `code` (1001 "going away" on shutdown: the
   * client reconnects, to another instance) and resolves once all have closed.
   */
  async closeAll(code: number, reason: string): Promise<void> {
    this.accepting = false
    const closed = [...this.connections].map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve()
          socket.once('close', () => resolve())
          socket.close(code, reason)
        }),
    )
    await Promise.all(closed)
  }

  /** Drops every connection at once (the shutdown's deadline passed). */
  terminate(): void {
    this.accepting = false
    for (const { socket } of this.connections) socket.terminate()
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer)
    this.terminate()
    this.wss.close()
  }

  private accept(socket: WebSocket, user: { id: string; role: Role }, token: string): void {
    const connection = new WsConnection(socket, user, token, this.rooms)
    this.connections.add(connection)
    socket.on('pong', () => {
      connection.lastSeen = Date.now()
    })
    socket.on('message', (raw, isBinary) => {
      connection.lastSeen = Date.now()
      if (isBinary) {
        socket.close(1003, 'send JSON text frames')
        return
      }
      void this.onFrame(connection, raw.toString())
    })
    socket.on('error', (error) => {
      // 1009 (too large) and protocol errors: ws closes the socket itself.
      this.options.logger.debug({ err: error }, 'WebSocket error')
    })
    socket.on('close', () => {
      this.connections.delete(connection)
      for (const room of [...connection.rooms]) connection.leave(room)
    })
  }

  private async onFrame(connection: WsConnection, text: string): Promise<void> {
    const commands = this.commands
    if (!commands) return
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    const parsed = wsFrame.safeParse(json)
    if (!parsed.success) {
      connection.send(
        JSON.stringify({
          event: 'error',
          data: {
            code: 'BAD_FRAME',
            message:
              'send {"event": "post:subscribe" | "post:unsubscribe" | "typing", "data": {…}}',
          },
        }),
      )
      return
    }
    const { event, data, ack } = parsed.data
    if (event === 'typing') {
      commands.typing(connection, data)
      return
    }
    const reply =
      event === 'post:subscribe'
        ? await commands.subscribe(connection, data)
        : commands.unsubscribe(connection, data)
    if (ack !== undefined) connection.send(JSON.stringify({ ack, data: reply }))
  }

  private beat(): void {
    const silentSince = Date.now() - this.options.pingIntervalMs - this.options.pingTimeoutMs
    for (const connection of this.connections) {
      if (connection.lastSeen < silentSince) connection.socket.terminate()
      else if (connection.socket.readyState === WebSocket.OPEN) connection.socket.ping()
    }
  }

  /** Ends the connections whose token expired or was revoked (logout everywhere, new password). */
  private async checkSessions(): Promise<void> {
    for (const connection of this.connections) {
      try {
        await this.options.auth.authenticate(connection.token)
      } catch (error) {
        if (error instanceof InvalidTokenError) connection.socket.close(1008, 'session ended')
      }
    }
  }
}
