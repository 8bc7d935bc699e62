import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))

/** A port free right now on the loopback interface, to give a spawned server. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Where nothing listens (port 9, discard): the services of a spawned process, unless given. */
const unreachableServices = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
  REDIS_URL: 'redis://127.0.0.1:9',
  AMQP_URL: 'amqp://127.0.0.1:9',
}

/** A log line of the spawned server (pino's JSON), or `{ msg }` for any other output. */
export interface LogLine {
  level?: number
  msg?: string
  err?: { message?: string }
  port?: number
  [key: string]: unknown
}

export interface ServerProcess {
  child: ChildProcess
  /** Every line printed so far. */
  logs(): LogLine[]
  /** Resolves with the first line that matches, or rejects if the process ends first. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** The exit code (null when a signal killed it). */
  exited: Promise<number | null>
}

/**
 * Runs `src/server.ts` (or `entry`, e.g. src/worker.ts) itself in a process of its own, as
 * `npm run dev` does (minus the watch).
 * The variables of .env.example fill in whatever the installed modules require and `env` does
 * not set, so the server starts in any project. Its services' URLs point nowhere unless `env`
 * names them: a spawned process writes nothing into a real database, Redis or RabbitMQ under the
 * project's own names (the modules start without them, and readiness says so). `preload` files
 * are imported first (`node --import`), to misbehave from outside the app.
 */
export function spawnServer(
  env: Record<string, string>,
  preload: string[] = [],
  entry = 'src/server.ts',
): ServerProcess {
  const child = spawn(
    process.execPath,
    [
      '--env-file-if-exists=.env.example',
      '--import',
      'tsx',
      ...preload.flatMap((file) => ['--import', file]),
      entry,
    ],
    {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ...unreachableServices,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const lines: LogLine[] = []
  const waiters = new Set<() => void>()
  let partial = ''
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString()
    const complete = text.split('\n')
    partial = complete.pop() ?? ''
    for (const line of complete.filter(Boolean)) {
      try {
        lines.push(JSON.parse(line) as LogLine)
      } catch {
        lines.push({ msg: line })
      }
    }
    for (const wake of waiters) wake()
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = once(child, 'close').then(([code]) => code as number | null)
  return {
    child,
    logs: () => lines,
    exited,
    waitForLog(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match)
          if (!found) return
          cleanup()
          resolve(found)
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`no such log line within ${timeoutMs} ms:\n${JSON.stringify(lines)}`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        void exited.then((code) => {
          check()
          if (waiters.has(check)) {
            cleanup()
            reject(new Error(`the server exited first (${code}):\n${JSON.stringify(lines)}`))
          }
        })
        check()
      })
    },
  }
}
