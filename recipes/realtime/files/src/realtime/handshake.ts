import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

const bearer = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/

/** The subprotocol a browser offers first, followed by its token: `new WebSocket(url, ['bearer', token])`. */
export const bearerProtocol = 'bearer'

/**
 * The access token of a WebSocket handshake: `Authorization: Bearer <token>` (servers, mobile
 * apps), or, from a browser, whose WebSocket API cannot set headers, the subprotocols
 * `bearer, <token>`. Never the URL: URLs are written to access logs, proxies' logs and browser
 * history, so a token in a query string is not read at all (and such a client is refused).
 */
export function tokenOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization
  if (authorization !== undefined) return bearer.exec(authorization)?.[1]
  const protocols = (headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
  return protocols[0] === bearerProtocol && protocols[1] ? protocols[1] : undefined
}

/**
 * Browsers send `Origin` with every WebSocket handshake and, unlike fetch, never enforce CORS on
 * it: a page on any site could open a socket to this service with the user's credentials
 * (cross-site WebSocket hijacking). So a handshake with an `Origin` must come from one of
 * `CORS_ORIGINS`; one without comes from a client that is not a browser, where the token alone
 * decides.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes(origin)
}

export interface Refusal {
  status: 401 | 403 | 503
  code: string
  message: string
  headers?: Record<string, string>
}

export const refusals = {
  unauthorized: {
    status: 401,
    code: 'INVALID_TOKEN',
    message: 'A valid access token is required',
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  },
  foreignOrigin: {
    status: 403,
    code: 'ORIGIN_NOT_ALLOWED',
    message: 'This origin may not connect',
  },
  shuttingDown: {
    status: 503,
    code: 'SHUTTING_DOWN',
    message: 'This instance is shutting down; connect again',
    headers: { 'Retry-After': '1' },
  },
  unavailable: {
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    message: 'Cannot check the access token right now',
    headers: { 'Retry-After': '5' },
  },
} as const satisfies Record<string, Refusal>

/** Answers an upgrade with an HTTP error (the JSON body every error has) and closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = JSON.stringify({ error: { message: refusal.message, code: refusal.code } })
  const headers = {
    Connection: 'close',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...refusal.headers,
  }
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n')}\r\n\r\n${body}`,
  )
}

/** The request's path without its query string (which is never logged). */
export const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0] ?? '/'
