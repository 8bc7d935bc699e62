import type { Server } from 'node:http'
import type { Express } from 'express'

/** Resolves once the server listens; rejects with what went wrong (Express 5 passes it on). */
export function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error) => (error ? reject(error) : resolve(server)))
  })
}

/**
 * One line that says what to do, for the errors a deploy actually meets; `variable` is the one
 * that sets this port (PORT, WORKER_HEALTH_PORT).
 */
export function describeListenError(
  error: unknown,
  host: string,
  port: number,
  variable = 'PORT',
): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use on ${host}: stop what listens there, or set ${variable}`
    case 'EACCES':
      return `no permission to listen on port ${port}: use a port above 1023, or set ${variable}`
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine: set HOST (0.0.0.0 listens on all)`
    default:
      return `cannot listen on ${host}:${port}`
  }
}
