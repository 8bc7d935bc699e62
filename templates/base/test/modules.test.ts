import http from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type DomainEvent, InProcessEventBus } from '../src/lib/events.js'
import { createLogger } from '../src/lib/logger.js'
import { requestContext } from '../src/lib/request-context.js'
import { defineModule, type ProcessRole } from '../src/module.js'
import { startApp, type TestApp } from './support/app.js'
import { freePort, type ServerProcess, spawnServer } from './support/process.js'
import { serveApp } from './support/serve.js'

// What the module contract gives every recipe beyond middleware and routes: the event bus,
// WebSocket upgrades routed by path, work drained on shutdown, the process role, the worker.

declare module '../src/lib/events.js' {
  interface DomainEvents {
    'test.happened': { n: number }
  }
}

describe('the event bus', () => {
  const quiet = createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' })

  it('delivers to the subscribers of a name and to every-event subscribers, with the request id', async () => {
    const bus = new InProcessEventBus(quiet)
    const seen: DomainEvent[] = []
    bus.on('test.happened', (event) => void seen.push(event))
    bus.onAny((event) => void seen.push(event))
    await requestContext.run({ requestId: 'req-42' }, () => bus.emit('test.happened', { n: 1 }))
    expect(seen).toHaveLength(2)
    expect(seen[0]).toMatchObject({
      name: 'test.happened',
      payload: { n: 1 },
      requestId: 'req-42',
      occurredAt: expect.any(String),
    })
  })

  it('a failing subscriber is logged and never fails the emitter or the other subscribers', async () => {
    const lines: string[] = []
    const logger = createLogger(
      { LOG_LEVEL: 'info', NODE_ENV: 'test' },
      { write: (line: string) => void lines.push(line) },
    )
    const bus = new InProcessEventBus(logger)
    let delivered = 0
    bus.on('test.happened', () => {
      throw new Error('subscriber broke')
    })
    bus.on('test.happened', async () => {
      delivered++
    })
    await expect(bus.emit('test.happened', { n: 2 })).resolves.toBeUndefined()
    expect(delivered).toBe(1)
    expect(lines.join('')).toContain('subscriber broke')
  })

  it('unsubscribes', async () => {
    const bus = new InProcessEventBus(quiet)
    let calls = 0
    const off = bus.on('test.happened', () => {
      calls++
    })
    off()
    await bus.emit('test.happened', { n: 3 })
    expect(calls).toBe(0)
  })
})

describe('WebSocket upgrades, routed by path', () => {
  const sockets = defineModule({
    name: 'sockets',
    env: z.object({}),
    init: () => ({
      upgrades: [
        {
          path: '/echo',
          handle: (_req, socket) => {
            socket.end(
              'HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n',
            )
          },
        },
      ],
    }),
  })
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ modules: [sockets] })
  })
  afterAll(() => app.close())

  const upgrade = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(`${app.url}${path}`, {
        headers: { Connection: 'Upgrade', Upgrade: 'test' },
      })
      req.on('upgrade', (res, socket) => {
        socket.destroy()
        resolve(res.statusCode ?? 0)
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })

  it('reach the module that asked for the path (with a query too); any other path is a 404', async () => {
    expect(await upgrade('/echo')).toBe(101)
    expect(await upgrade('/echo?token=x')).toBe(101)
    expect(await upgrade('/elsewhere')).toBe(404)
  })
})

describe('the process role and the drain', () => {
  it('modules know which process they start in, and what they drain finishes before they stop', async () => {
    const steps: string[] = []
    let role: ProcessRole | undefined
    const background = defineModule({
      name: 'background',
      env: z.object({}),
      init: (context) => {
        role = context.role
        return {
          drain: [
            {
              drain: async () => {
                await new Promise((resolve) => setTimeout(resolve, 50))
                steps.push('drained')
              },
              abort: () => steps.push('aborted'),
            },
          ],
          stop: async () => {
            steps.push('stopped')
          },
        }
      },
    })
    const served = await serveApp({ modules: [background] })
    expect(role).toBe('server')
    served.signal('SIGTERM')
    expect(await served.exited).toBe(0)
    expect(steps).toEqual(['drained', 'stopped'])
  })
})

describe('src/worker.ts as a process', { timeout: 30_000 }, () => {
  // A test that fails half-way leaves no process behind.
  const spawned: ServerProcess[] = []
  afterEach(() => {
    for (const worker of spawned.splice(0)) worker.child.kill('SIGKILL')
  })
  const spawnWorker = (env: Record<string, string> = {}) => {
    const worker = spawnServer(env, [], 'src/worker.ts')
    spawned.push(worker)
    return worker
  }

  it('starts the modules for the worker role without HTTP, and on SIGTERM stops and exits 0', async () => {
    const worker = spawnWorker()
    await worker.waitForLog((line) => line.msg === 'worker started')
    // It stays up until told to stop, even with nothing holding its event loop open.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(worker.child.exitCode).toBeNull()
    worker.child.kill('SIGTERM')
    expect(await worker.exited).toBe(0)
    expect(worker.logs().some((line) => line.msg === 'shutdown complete')).toBe(true)
    expect(worker.logs().some((line) => line.msg === 'listening')).toBe(false)
  })

  it('answers its probes on WORKER_HEALTH_PORT, and stops answering once it has stopped', async () => {
    const port = await freePort()
    const worker = spawnWorker({ WORKER_HEALTH_PORT: String(port) })
    const started = await worker.waitForLog((line) => line.msg === 'worker started')
    expect(started.healthPort).toBe(port)
    const live = await fetch(`http://127.0.0.1:${port}/health/live`)
    expect(live.status).toBe(200)
    // 200 or 503 depending on the services this project's modules check (none reachable here).
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`)
    const report = (await ready.json()) as { status: string; checks: object }
    expect(ready.status).toBe(report.status === 'ok' ? 200 : 503)
    expect(report.checks).toEqual(expect.any(Object))
    expect((await fetch(`http://127.0.0.1:${port}/api`)).status).toBe(404)
    worker.child.kill('SIGTERM')
    expect(await worker.exited).toBe(0)
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow()
  })

  it('stops at once, naming the variable, when its probe port is taken', async () => {
    const taken = http.createServer().listen(0, '127.0.0.1')
    await new Promise((resolve) => taken.once('listening', resolve))
    const { port } = taken.address() as { port: number }
    const worker = spawnWorker({ WORKER_HEALTH_PORT: String(port) })
    try {
      expect(await worker.exited).toBe(1)
      expect(worker.logs().map((line) => line.msg)).toContainEqual(
        expect.stringMatching(/already in use.*WORKER_HEALTH_PORT/),
      )
    } finally {
      taken.close()
    }
  })
})
