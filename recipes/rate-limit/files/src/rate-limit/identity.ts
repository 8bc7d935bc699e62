import { isIPv6 } from 'node:net'
import type { Request } from 'express'

/** The /64 an IPv6 address belongs to: one subscriber holds a whole /64, so it counts as one. */
function ipv6Network(address: string): string {
  const [head = '', tail] = address.split('%')[0]?.split('::') ?? []
  const front = head ? head.split(':') : []
  const back = tail ? tail.split(':') : []
  const groups =
    tail === undefined
      ? front
      : [...front, ...Array(8 - front.length - back.length).fill('0'), ...back]
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`
}

/**
 * `ip:<address>` of the client as Express sees it: X-Forwarded-For counts only through the
 * TRUST_PROXY hops configured, so a client cannot reset its quota by forging the header. An
 * IPv4-mapped IPv6 address is the IPv4 address; other IPv6 addresses count per /64.
 */
export function ipIdentity(req: Request): string {
  const address = req.ip ?? req.socket.remoteAddress ?? 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return `ip:${mapped[1]}`
  return `ip:${isIPv6(address) ? ipv6Network(address) : address}`
}

/** Who a request counts against: the signed-in user, else the client's address. */
export function callerIdentity(req: Request): string {
  return req.user ? `user:${req.user.id}` : ipIdentity(req)
}
