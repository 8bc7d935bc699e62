import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client'
import { WebSocket } from 'ws'
import type { Ack, ServerEvents } from '../../src/realtime/protocol.js'

// Clients of the realtime endpoints as an application would use them: socket.io-client for
// /socket.io, a plain `ws` WebSocket for /ws.

export type ClientSocket = Socket

/** A connected Socket.IO client (no reconnection unless asked), or the `connect_error`. */
export function connectSocketIo(
  url: string,
  token: string | undefined,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<ClientSocket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(token === undefined ? {} : { auth: { token } }),
    ...options,
  })
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('connect_error', (error) => {
      socket.close()
      reject(error)
    })
  })
}

/** The next `event` a Socket.IO client receives (rejects after `timeoutMs`). */
export function nextEvent<E extends keyof ServerEvents>(
  socket: ClientSocket,
  event: E,
  timeoutMs = 5_000,
): Promise<ServerEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${event} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.once(event as string, (data: ServerEvents[E]) => {
      clearTimeout(timer)
      resolve(data)
    })
  })
}

/** Subscribes a Socket.IO client to a post; resolves with the acknowledgement. */
export function subscribeSocketIo(socket: ClientSocket, postId: unknown): Promise<Ack> {
  return socket.timeout(5_000).emitWithAck('post:subscribe', { postId })
}

/** A /ws client and every frame it has received, parsed. */
export interface WsClient {
  socket: WebSocket
  frames: { event?: string; data?: unknown; ack?: unknown }[]
  /** Resolves with the first frame (already received or to come) that matches. */
  waitFor(
    match: (frame: WsClient['frames'][number]) => boolean,
    timeoutMs?: number,
  ): Promise<WsClient['frames'][number]>
  /** Sends a frame and resolves with the acknowledgement's data. */
  request(event: string, data: unknown): Promise<Ack>
  /** Resolves with the close code once the connection is closed. */
  closed: Promise<number>
}

let acks = 0

/** Opens /ws with these headers or subprotocols; rejects with the HTTP status of a refusal. */
export function connectWs(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[]; autoPong?: boolean } = {},
): Promise<WsClient> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, options.protocols ?? [], {
    headers: options.headers,
    autoPong: options.autoPong ?? true,
  })
  const frames: WsClient['frames'] = []
  const waiters = new Set<() => void>()
  socket.on('message', (raw) => {
    frames.push(JSON.parse(raw.toString()))
    for (const wake of waiters) wake()
  })
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  const client: WsClient = {
    socket,
    frames,
    closed,
    waitFor(match, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.find(match)
          if (!found) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no such frame within ${timeoutMs} ms: ${JSON.stringify(frames)}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    async request(event, data) {
      const ack = ++acks
      socket.send(JSON.stringify({ event, data, ack }))
      const reply = await client.waitFor((frame) => frame.ack === ack)
      return reply.data as Ack
    },
  }
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client))
    socket.once('unexpected-response', (_req, res) => {
      res.resume()
      reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode }))
    })
    socket.once('error', reject)
  })
}

/** The HTTP status a refused /ws handshake got (0 when it was accepted). */
export async function wsRefusal(url: string, options: Parameters<typeof connectWs>[1] = {}) {
  try {
    const client = await connectWs(url, options)
    client.socket.close()
    return 0
  } catch (error) {
    return (error as { status?: number }).status ?? -1
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
