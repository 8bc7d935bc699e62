import http from 'node:http'
import net from 'node:net'

export interface LoadReport {
  sent: number
  failed: number
  /** The first few failures, as `code: message`. */
  errors: string[]
  /** Each answered request: when it was sent (performance.now()) and its Connection header. */
  answered: { sentAt: number; connection: string | undefined }[]
}

export interface Load {
  /** Sends no new request, waits for those in flight, and reports. */
  stop(): Promise<LoadReport>
}

/**
 * Keeps `connections` keep-alive connections busy with GET `url`, each sending its next request
 * as soon as the last one is answered, the way a load balancer's pool does.
 */
export function keepAliveLoad(url: string, connections = 64): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const report: LoadReport = { sent: 0, failed: 0, errors: [], answered: [] }
  let running = true
  const get = () =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now()
      report.sent++
      http
        .get(url, { agent }, (res) => {
          res.resume()
          res.on('end', () => {
            report.answered.push({ sentAt, connection: res.headers.connection })
            resolve()
          })
        })
        .on('error', (error: NodeJS.ErrnoException) => {
          report.failed++
          if (report.errors.length < 5) report.errors.push(`${error.code}: ${error.message}`)
          resolve()
        })
    })
  const worker = async () => {
    while (running) await get()
  }
  const workers = Array.from({ length: connections }, worker)
  return {
    async stop() {
      running = false
      await Promise.all(workers)
      agent.destroy()
      return report
    },
  }
}

export type Answer =
  | { status: number; connection: string | undefined; reusedSocket: boolean; body: string }
  | { error: string }

/**
 * One GET: its status, Connection header and body, or the error code when nothing answered.
 * Without an agent it opens a connection of its own.
 */
export function getOnce(url: string, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reusedSocket: req.reusedSocket,
          body,
        }),
      )
    })
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    )
  })
}

/** Whether a TCP connection to the port is accepted right now. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `probe` every `intervalMs` until it returns something other than undefined. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  { intervalMs = 20, timeoutMs = 10_000 } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`)
    await sleep(intervalMs)
  }
}
