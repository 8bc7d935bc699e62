import { EventEmitter, once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { Router } from 'express'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigError, loadConfig } from '../src/config.js'
import { handleGracefulShutdown } from '../src/lib/shutdown.js'
import { defineModule } from '../src/module.js'
import {
  type Answer,
  getOnce,
  keepAliveLoad,
  pollUntil,
  portAnswers,
  sleep,
} from './support/load.js'
import { freePort, type LogLine, type ServerProcess, spawnServer } from './support/process.js'
import { type ServedApp, serveApp } from './support/serve.js'

describe('the shutdown sequence', () => {
  /** handleGracefulShutdown with a drain step that takes `drainMs`, recording what happens. */
  function sequence(options: { drainMs?: number; timeoutMs?: number; stopFails?: boolean } = {}) {
    const events = new EventEmitter()
    const steps: string[] = []
    const logs: LogLine[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) })
    const exits: number[] = []
    const exited = new Promise<number>((resolve) => {
      handleGracefulShutdown({
        logger,
        timeoutMs: options.timeoutMs ?? 2_000,
        events,
        exit: (code) => {
          exits.push(code)
          resolve(code)
        },
        onShutdownStart: () => steps.push('readiness 503'),
        drain: [
          {
            async drain() {
              steps.push('draining')
              await sleep(options.drainMs ?? 50)
              steps.push('drained')
            },
            abort: () => steps.push('aborted'),
          },
        ],
        stop: async () => {
          steps.push('stopped')
          if (options.stopFails) throw new Error('the pool would not close')
        },
      })
    })
    return { events, steps, logs, exits, exited }
  }

  const inOrder = ['readiness 503', 'draining', 'drained', 'stopped']

  it.each([
    ['SIGTERM', 0, []],
    ['SIGINT', 0, []],
    ['unhandledRejection', 1, [new Error('a rejection nothing handled')]],
    ['uncaughtException', 1, [new Error('an exception nothing caught'), 'uncaughtException']],
  ])('%s: readiness, drain, stop, in that order, then exit %i', async (event, code, args) => {
    const { events, steps, logs, exits, exited } = sequence()
    events.emit(event, ...args)
    expect(await exited).toBe(code)
    expect(steps).toEqual(inOrder)
    expect(exits).toEqual([code])
    if (code === 1) {
      // The crash is logged as fatal with what went wrong, before the shutdown begins.
      const fatal = logs.findIndex((line) => line.level === 60)
      expect(logs[fatal]?.err?.message).toMatch(/nothing (handled|caught)/)
      expect(fatal).toBeLessThan(logs.findIndex((line) => line.msg === 'shutting down'))
    }
  })

  it('a second signal cuts what is in flight and exits 1 at once', async () => {
    const { events, steps, exited } = sequence({ drainMs: 5_000 })
    events.emit('SIGTERM')
    await sleep(20)
    events.emit('SIGINT')
    expect(await exited).toBe(1)
    expect(steps).toEqual(['readiness 503', 'draining', 'aborted'])
  })

  it('a drain that outlasts the timeout is cut, and the process exits 1', async () => {
    const { events, steps, exited } = sequence({ drainMs: 5_000, timeoutMs: 200 })
    const started = performance.now()
    events.emit('SIGTERM')
    expect(await exited).toBe(1)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(steps).toEqual(['readiness 503', 'draining', 'aborted'])
  })

  it('a crash during a shutdown lets it finish, then exits 1', async () => {
    const { events, steps, exited } = sequence({ drainMs: 100 })
    events.emit('SIGTERM')
    events.emit('unhandledRejection', new Error('while draining'))
    expect(await exited).toBe(1)
    expect(steps).toEqual(inOrder)
  })

  it('a stop that fails exits 1', async () => {
    const { events, logs, exited } = sequence({ stopFails: true })
    events.emit('SIGTERM')
    expect(await exited).toBe(1)
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'shutdown failed' }))
  })
})

describe('SHUTDOWN_DELAY_MS', () => {
  it.each([
    [{ NODE_ENV: 'production' }, 5_000],
    [{ NODE_ENV: 'development' }, 0],
    [{ NODE_ENV: 'test' }, 0],
    [{ NODE_ENV: 'production', SHUTDOWN_DELAY_MS: '' }, 5_000],
    [{ NODE_ENV: 'production', SHUTDOWN_DELAY_MS: '2000' }, 2_000],
  ])('%o → %i ms', (env, delay) => {
    expect(loadConfig(env, []).core.SHUTDOWN_DELAY_MS).toBe(delay)
  })

  it('must be shorter than SHUTDOWN_TIMEOUT_MS, which counts from the signal', () => {
    const load = () => loadConfig({ NODE_ENV: 'production', SHUTDOWN_TIMEOUT_MS: '5000' }, [])
    expect(load).toThrow(ConfigError)
    expect(load).toThrow(/SHUTDOWN_DELAY_MS: must be less than SHUTDOWN_TIMEOUT_MS \(5000\)/)
  })
})

/** Routes that answer at once or after `?ms=`; every answer and the module's stop are logged. */
function workModule(log: string[]) {
  return defineModule({
    name: 'work',
    env: z.object({}),
    init() {
      const router = Router()
      router.get('/', async (req, res) => {
        const ms = Number(req.query.ms ?? 0)
        if (ms > 0) await sleep(ms)
        res.on('finish', () => log.push(`answered ${ms} ms`))
        res.json({ ok: true })
      })
      return {
        routes: [{ path: '/work', router }],
        stop: async () => {
          log.push('modules stopped')
        },
      }
    },
  })
}

function expectAnswer(answer: Answer) {
  if ('error' in answer) throw new Error(`no answer: ${answer.error}`)
  return answer
}

/** Polls readiness on new connections until it answers 503; fails if the port closed first. */
async function waitForNotReady(url: string): Promise<number> {
  return pollUntil(async () => {
    const answer = expectAnswer(await getOnce(`${url}/health/ready`))
    return answer.status === 503 ? performance.now() : undefined
  })
}

describe('the HTTP drain, on the real app', () => {
  const started: ServedApp[] = []
  const serve = async (...args: Parameters<typeof serveApp>) => {
    const served = await serveApp(...args)
    started.push(served)
    return served
  }
  afterEach(() => Promise.all(started.splice(0).map((served) => served.close())))

  it('SIGTERM under a 64-connection keep-alive load: readiness 503 while it keeps serving, no request fails, then it stops and exits 0', async () => {
    const log: string[] = []
    // A delay long enough for the "load balancer" below to react even on a loaded machine: a
    // client still sending when the port closes is the race the delay exists to avoid.
    const served = await serve({ modules: [workModule(log)], env: { SHUTDOWN_DELAY_MS: '1500' } })
    const load = keepAliveLoad(`${served.url}/work?ms=5`, 64)
    await sleep(200)
    const signalledAt = performance.now()
    served.signal('SIGTERM')
    const notReadyAt = await waitForNotReady(served.url)
    // The load balancer acts on the 503 a moment later, as a real one does.
    await sleep(150)
    const report = await load.stop()
    const closedAt = await pollUntil(async () =>
      (await portAnswers(served.port)) ? undefined : performance.now(),
    )
    expect(await served.exited).toBe(0)
    expect(report.failed, report.errors.join('\n')).toBe(0)
    expect(report.sent).toBeGreaterThan(64 * 2)
    expect(closedAt - signalledAt).toBeGreaterThanOrEqual(1_450)
    // Every response to a request sent after the 503 told its client not to reuse the socket.
    const afterNotice = report.answered.filter((answer) => answer.sentAt > notReadyAt)
    expect(afterNotice.length).toBeGreaterThan(0)
    expect(new Set(afterNotice.map((answer) => answer.connection))).toEqual(new Set(['close']))
    expect(log.at(-1)).toBe('modules stopped')
  })

  it('a keep-alive socket that was idle when SIGTERM came still serves the next request, and closes after it', async () => {
    const served = await serve({ modules: [workModule([])], env: { SHUTDOWN_DELAY_MS: '300' } })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const first = expectAnswer(await getOnce(`${served.url}/work`, agent))
    expect(first.connection).toBe('keep-alive')
    served.signal('SIGTERM')
    await sleep(50)
    const second = expectAnswer(await getOnce(`${served.url}/work`, agent))
    expect(second).toMatchObject({ status: 200, reusedSocket: true, connection: 'close' })
    expect(await served.exited).toBe(0)
    agent.destroy()
  })

  it('requests in flight finish with Connection: close, even one still arriving when the port closes, before the modules stop', async () => {
    const log: string[] = []
    const served = await serve({ modules: [workModule(log)], env: { SHUTDOWN_DELAY_MS: '300' } })
    const agent = new http.Agent({ keepAlive: true })
    // Answered 700 ms from now: after the port has closed.
    const slow = getOnce(`${served.url}/work?ms=700`, agent)
    await sleep(50)
    served.signal('SIGTERM')
    await sleep(150)
    // A request whose headers have begun to arrive, but not ended, when the port closes.
    const socket = net.connect(served.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write('GET /work HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    await pollUntil(async () => ((await portAnswers(served.port)) ? undefined : true))
    let response = ''
    socket.on('data', (chunk) => (response += chunk))
    socket.write('\r\n')
    await once(socket, 'close')
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/)
    expect(response.toLowerCase()).toContain('connection: close')
    expect(expectAnswer(await slow)).toMatchObject({ status: 200, connection: 'close' })
    expect(await served.exited).toBe(0)
    expect(log).toEqual(['answered 0 ms', 'answered 700 ms', 'modules stopped'])
    agent.destroy()
  })
})

describe('src/server.ts as a process', { timeout: 30_000 }, () => {
  const processes: ServerProcess[] = []
  /** Spawns src/server.ts on a free port and waits until it says it is listening. */
  const start = async (env: Record<string, string> = {}, preload: string[] = []) => {
    const port = await freePort()
    const server = spawnServer({ PORT: String(port), ...env }, preload)
    processes.push(server)
    await server.waitForLog((line) => line.msg === 'listening')
    return { server, port, url: `http://127.0.0.1:${port}` }
  }
  afterEach(() => {
    for (const server of processes.splice(0)) server.child.kill('SIGKILL')
  })

  it('on SIGTERM, says "shutting-down" on /health/ready while it serves for SHUTDOWN_DELAY_MS, then exits 0', async () => {
    const { server, url } = await start({ SHUTDOWN_DELAY_MS: '500' })
    const signalledAt = performance.now()
    server.child.kill('SIGTERM')
    const report = await pollUntil(async () => {
      const answer = expectAnswer(await getOnce(`${url}/health/ready`))
      const body = JSON.parse(answer.body) as { status: string }
      return body.status === 'shutting-down' ? answer : undefined
    })
    expect(report.status).toBe(503)
    // Still serving, on new connections too, until the delay is over.
    expect(expectAnswer(await getOnce(`${url}/health/live`)).status).toBe(200)
    expect(await server.exited).toBe(0)
    expect(performance.now() - signalledAt).toBeGreaterThanOrEqual(450)
    expect(server.logs().map((line) => line.msg)).toContain('shutdown complete')
  })

  it('a port already in use fails at once with a message that says so, never "listening"', async () => {
    const { server: first, port } = await start()
    const second = spawnServer({ PORT: String(port) })
    processes.push(second)
    expect(await second.exited).toBe(1)
    expect(second.logs()).toContainEqual(
      expect.objectContaining({
        level: 60,
        msg: expect.stringContaining(`port ${port} is already in use`),
      }),
    )
    expect(second.logs().map((line) => line.msg)).not.toContain('listening')
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
  })

  it.each([
    ['rejection', 'unhandled promise rejection', 'a rejection nothing handled'],
    ['exception', 'uncaught exception', 'an exception nothing caught'],
  ])(
    'an unhandled %s is logged as fatal, then the server shuts down gracefully and exits 1',
    async (kind, msg, message) => {
      const { server, url } = await start({}, ['./test/support/crash-on-request.ts'])
      // The request that set it off still gets its answer: the shutdown is graceful.
      expect(expectAnswer(await getOnce(`${url}/crash/${kind}`)).status).toBe(404)
      expect(await server.exited).toBe(1)
      const logs = server.logs()
      expect(logs).toContainEqual(
        expect.objectContaining({ level: 60, msg, err: expect.objectContaining({ message }) }),
      )
      expect(logs.map((line) => line.msg)).toContain('shutdown complete')
    },
  )
})
