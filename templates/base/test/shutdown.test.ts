import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/lib/logger.js'
import { handleGracefulShutdown } from '../src/lib/shutdown.js'

const logger = createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' })

async function slowServer(delayMs: number) {
  const server = http.createServer((_req, res) => {
    setTimeout(() => res.end('done'), delayMs)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

describe('graceful shutdown', () => {
  it('lets every in-flight request finish, refuses new connections, stops modules, exits 0', async () => {
    const { server, url } = await slowServer(400)
    const agent = new http.Agent({ keepAlive: true })
    const get = () =>
      new Promise<string>((resolve, reject) => {
        http
          .get(url, { agent }, (res) => {
            let body = ''
            res.on('data', (chunk) => (body += chunk))
            res.on('end', () => resolve(body))
          })
          .on('error', reject)
      })
    const events: string[] = []
    let exitCode: number | undefined
    const shutdown = handleGracefulShutdown({
      server,
      logger,
      timeoutMs: 5_000,
      signals: [],
      onShutdownStart: () => events.push('readiness off'),
      stop: async () => {
        events.push('modules stopped')
      },
      exit: (code) => {
        exitCode = code
      },
    })
    const inFlight = Array.from({ length: 10 }, get)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const done = shutdown()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await expect(fetch(url)).rejects.toThrow()
    expect(await Promise.all(inFlight)).toEqual(Array(10).fill('done'))
    await done
    expect(events).toEqual(['readiness off', 'modules stopped'])
    expect(exitCode).toBe(0)
    agent.destroy()
  })

  it('forces exit 1 when requests outlast the timeout', async () => {
    const { server, url } = await slowServer(5_000)
    let exitCode: number | undefined
    const shutdown = handleGracefulShutdown({
      server,
      logger,
      timeoutMs: 200,
      signals: [],
      onShutdownStart: () => {},
      stop: async () => {},
      exit: (code) => {
        exitCode ??= code
      },
    })
    const stuck = fetch(url).catch(() => 'cut')
    await new Promise((resolve) => setTimeout(resolve, 50))
    void shutdown()
    expect(await stuck).toBe('cut')
    expect(exitCode).toBe(1)
  })
})
