import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'

/** A port free right now on the loopback interface, for a process a test starts. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface BuiltInstance {
  url: string
  child: ChildProcess
  /** Everything it printed so far. */
  logs(): string
}

/**
 * Starts a built project's server (`node dist/server.js` in `root`, on a free loopback port) with
 * `env` and nothing else of the test's environment but PATH; resolves once `/health/ready`
 * answers 200. The caller stops it.
 */
export async function startBuiltServer(
  root: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<BuiltInstance> {
  const port = await freePort()
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let logs = ''
  child.stdout?.on('data', (chunk) => (logs += chunk))
  child.stderr?.on('data', (chunk) => (logs += chunk))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await fetch(`${url}/health/ready`).then(
      (res) => res.status,
      () => null,
    )
    if (status === 200) return { url, child, logs: () => logs }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${url} was not ready (last: ${status ?? 'no answer'})\n${logs}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
