import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { makeProject } from '../support/project.js'

/** A service double on loopback whose readiness the test flips; real HTTP, real sockets. */
let readyAt = 0
let server: http.Server
let base: string
beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url === '/health/live') return res.end(JSON.stringify({ status: 'ok' }))
    if (req.url === '/health/ready') {
      const ready = Date.now() >= readyAt
      res.statusCode = ready ? 200 : 503
      return res.end(
        JSON.stringify({
          status: ready ? 'ok' : 'unavailable',
          checks: {
            postgres: { status: 'up', latencyMs: 2 },
            redis: ready
              ? { status: 'up', latencyMs: 1 }
              : { status: 'down', latencyMs: 250, error: 'timed out' },
          },
        }),
      )
    }
    if (req.url === '/custom/ready') return res.end('{}')
    res.statusCode = 404
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise((resolve) => server.close(resolve)))

describe('backendkit health', () => {
  it('exits 0 and prints each readiness check when ready', async () => {
    readyAt = 0
    const result = await runCli(['health', base])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/live\s+200/)
    expect(result.stdout).toMatch(/postgres\s+up\s+2 ms/)
    expect(result.stdout).toContain('Ready.')
  })

  it('exits 1 on 503 and shows the failing check', async () => {
    readyAt = Date.now() + 60_000
    const result = await runCli(['health', base, '--json'])
    expect(result.code).toBe(1)
    const data = JSON.parse(result.stdout)
    expect(data).toMatchObject({ ready: false, live: { status: 200 }, readiness: { status: 503 } })
    expect(data.readiness.checks).toContainEqual({
      name: 'redis',
      status: 'down',
      latencyMs: 250,
      error: 'timed out',
    })
  })

  it('a refused connection counts as not ready (exit 1)', async () => {
    // a port that was free a moment ago (fetch refuses well-known ports such as 9 outright)
    const probe = net.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise((resolve) => probe.close(resolve))
    const result = await runCli(['health', `http://127.0.0.1:${port}`])
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('connection refused')
    expect(result.stdout).toContain('Not ready.')
  })

  it('--wait polls until ready', async () => {
    readyAt = Date.now() + 1_200
    const result = await runCli([
      'health',
      base,
      '--wait',
      '--timeout',
      '10s',
      '--interval',
      '200ms',
      '--json',
    ])
    expect(result.code).toBe(0)
    const data = JSON.parse(result.stdout)
    expect(data.ready).toBe(true)
    expect(data.attempts).toBeGreaterThan(2)
    expect(data.waitedMs).toBeGreaterThanOrEqual(1_000)
    expect(result.stderr).toContain('Waiting up to 10 s')
  })

  it('--wait gives up at the timeout with exit 1', async () => {
    readyAt = Date.now() + 60_000
    const started = Date.now()
    const result = await runCli([
      'health',
      base,
      '--wait',
      '--timeout',
      '1s',
      '--interval',
      '100ms',
    ])
    expect(result.code).toBe(1)
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(result.stdout).toMatch(/Not ready after \d+ attempts/)
  })

  it('takes the URL and paths from backendkit.json', async () => {
    readyAt = 0
    const project = makeProject({ name: 'demo', health: { url: base, ready: '/custom/ready' } })
    const result = await runCli(['health', '--json'], { cwd: project.root })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).readiness.url).toBe(`${base}/custom/ready`)
  })

  it('a malformed URL is a usage error', async () => {
    expect((await runCli(['health', 'not a url'])).code).toBe(2)
    expect((await runCli(['health', 'ftp://127.0.0.1'])).code).toBe(2)
  })
})
