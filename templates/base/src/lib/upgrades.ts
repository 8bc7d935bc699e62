import type { Server } from 'node:http'
import type { UpgradeHandler } from '../module.js'

/**
 * Routes the server's WebSocket upgrades by path to the module that asked for them (Socket.IO at
 * /socket.io, a plain `ws` server at /ws, …): no module owns the server's `upgrade` event, which
 * would refuse or break the others'. An upgrade nobody handles gets a 404 and is closed.
 */
export function routeUpgrades(server: Server, handlers: readonly UpgradeHandler[]): void {
  if (handlers.length === 0) return
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const handler = handlers.find((h) => path === h.path || path.startsWith(`${h.path}/`))
    if (handler) {
      handler.handle(req, socket, head)
      return
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })
}
