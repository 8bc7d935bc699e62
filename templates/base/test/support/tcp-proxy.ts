import { once } from 'node:events'
import net from 'node:net'

/**
 * A TCP proxy in front of a real service (Redis, PostgreSQL) that a test can cut and restore:
 * for the app behind it the service goes away as it does in production (open connections reset,
 * new ones refused) and comes back on the same address, without stopping the real service that
 * other tests share.
 */
export class TcpProxy {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()

  private constructor(
    private readonly target: { host: string; port: number },
    public port = 0,
  ) {}

  /** Starts forwarding 127.0.0.1:<free port> to the host and port of `url`. */
  static async start(url: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(url)
    const proxy = new TcpProxy({ host: hostname, port: Number(port) })
    await proxy.restore()
    return proxy
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const proxied = new URL(url)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(this.port)
    return proxied.href
  }

  /** The service is gone: every open connection is reset and new ones are refused. */
  async cut(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    if (server) await new Promise((resolve) => server.close(resolve))
  }

  /** The service is back, on the same port. */
  async restore(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target)
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    server.listen(this.port, '127.0.0.1')
    await once(server, 'listening')
    this.port = (server.address() as net.AddressInfo).port
    this.server = server
  }

  close(): Promise<void> {
    return this.cut()
  }
}
