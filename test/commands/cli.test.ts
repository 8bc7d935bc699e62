import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { binPath, repoRoot, runBin, runCli } from '../support/cli.js'
import { closedPort, testServices } from '../support/env.js'

/** An empty project folder with an (empty) migrations folder. */
function emptyProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bk-'))
  mkdirSync(path.join(dir, 'src/db/migrations'), { recursive: true })
  return dir
}

const heavy = [
  'pg',
  'kysely',
  'ioredis',
  'bullmq',
  'handlebars',
  'express',
  'execa',
  'zod',
  '@clack/prompts',
  'tsx',
  'pino',
  '@openfeature/server-sdk',
]

/** Packages a spawned bin resolves while running `args`. */
function packagesLoadedBy(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', path.join(repoRoot, 'test/support/loaded-modules.mjs'), binPath, ...args],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] },
    )
    let out = ''
    child.stdio[3]?.on('data', (chunk) => (out += chunk))
    child.on('error', reject)
    child.on('close', () => resolve(JSON.parse(out || '[]')))
  })
}

describe('the CLI shell', () => {
  it('prints its version and help, exit 0', async () => {
    const version = await runCli(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('migrate')
    expect(help.stdout).toContain('--database-url')
  })

  it.each([
    [['--help']],
    [['migrate', '--help']],
    [['migrate', 'up', '--help']],
    [['health', '--help']],
    [['ratelimit', '--help']],
    [['ratelimit', 'list', '--help']],
    [['ratelimit', 'inspect', '--help']],
    [['ratelimit', 'reset', '--help']],
    [['cache', '--help']],
    [['cache', 'get', '--help']],
    [['cache', 'invalidate', '--help']],
    [['cache', 'stats', '--help']],
    [['flags', '--help']],
    [['flags', 'list', '--help']],
    [['flags', 'get', '--help']],
    [['flags', 'set', '--help']],
    [['flags', 'delete', '--help']],
    [['flags', 'eval', '--help']],
    [['flags', 'history', '--help']],
    [['down', '--help']],
    [['up', '--help']],
    [['queue', '--help']],
    ...[
      'list',
      'inspect',
      'retry',
      'remove',
      'clean',
      'pause',
      'resume',
      'drain',
      'obliterate',
      'promote',
    ].map((verb) => [['queue', verb, '--help']]),
    [['cron', '--help']],
    ...['list', 'run', 'pause', 'resume'].map((verb) => [['cron', verb, '--help']]),
  ])('%j loads none of the heavy modules', async (args) => {
    const loaded = await packagesLoadedBy(args)
    expect(loaded.filter((name) => heavy.includes(name))).toEqual([])
  })

  it.each([
    [['migrate', 'status', '--database-url', `postgres://127.0.0.1:${closedPort}/x`], 'pg'],
    [
      ['ratelimit', 'list', '--redis-url', `redis://127.0.0.1:${closedPort}`, '--prefix', 'x:'],
      'ioredis',
    ],
    [
      [
        'queue',
        'retry',
        'q',
        '1',
        '--redis-url',
        `redis://127.0.0.1:${closedPort}`,
        '--queue-prefix',
        'x',
      ],
      'ioredis',
    ],
  ])('proves the probe sees heavy modules when a command does run (%j)', async (args, heavyOne) => {
    expect(await packagesLoadedBy(args)).toContain(heavyOne)
  })

  it('an operate command given its prefix and URL never loads zod (backendkit.json is not read)', async () => {
    const args = [
      'queue',
      'list',
      '--queue-prefix',
      'x',
      '--redis-url',
      `redis://127.0.0.1:${closedPort}`,
    ]
    const loaded = await packagesLoadedBy(args)
    expect(loaded).toContain('ioredis')
    expect(loaded).not.toContain('zod')
  })

  it.each([
    [
      ['cache', '--help'],
      ['get', 'invalidate', 'stats'],
    ],
    [
      ['help', 'ratelimit'],
      ['list', 'inspect', 'reset'],
    ],
    [
      ['flags', '--help'],
      ['list', 'get', 'set', 'delete', 'eval', 'history'],
    ],
    [
      ['queue', '--help'],
      [
        'list',
        'inspect',
        'retry',
        'remove',
        'clean',
        'pause',
        'resume',
        'drain',
        'obliterate',
        'promote',
      ],
    ],
    [
      ['cron', '--help'],
      ['list', 'run', 'pause', 'resume'],
    ],
    [
      ['--prefix', 'p:', '--json', 'migrate', '--help'],
      ['up', 'down', 'status', 'make', 'unlock'],
    ],
  ])('%j lists the verbs of the group it names', async (args, verbs) => {
    const result = await runCli(args)
    expect(result.code).toBe(0)
    for (const verb of verbs) expect(result.stdout).toMatch(new RegExp(`^  ${verb}\\b`, 'm'))
  })

  it.each([
    [['migrat'], /unknown command 'migrat'[\s\S]*Did you mean migrate\?/],
    [
      ['--prefix', 'p:', 'cache', 'invalidat'],
      /unknown command 'invalidat'[\s\S]*Did you mean invalidate\?/,
    ],
    [['migrate', 'up', '--stpe', '2'], /unknown option '--stpe'[\s\S]*Did you mean --step\?/],
    [['migrate', 'up', '--step', 'two'], /--step <n>.*Expected a positive whole number/],
    [['health', '--timeout', 'soon'], /Expected a duration/],
  ])('%j is a usage error with a hint (exit 2)', async (args, message) => {
    const result = await runCli(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toMatch(/^hint: /m)
    expect(result.stdout).toBe('')
  })

  it('shows help on stderr with exit 2 when no command is given', async () => {
    const result = await runCli([])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Usage: backendkit')
  })

  it.each([
    ['not a url', /Malformed DATABASE_URL/],
    [
      'mysql://u:hunter22@127.0.0.1/db',
      /DATABASE_URL is not a PostgreSQL URL: mysql:\/\/u:\*\*\*@127\.0\.0\.1\/db/,
    ],
    ['postgres://u:hunter22@[::1/db', /Malformed DATABASE_URL/],
  ])(
    'a malformed URL (%s) is a usage error that never shows the password',
    async (url, message) => {
      const result = await runCli(['migrate', 'status', '--database-url', url, '--debug'])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.stderr).toMatch(/^hint: .*--database-url/m)
      expect(result.stderr).not.toContain('hunter22')
    },
  )

  it('a missing URL is a usage error naming the variable and the flag', async () => {
    const result = await runCli(['migrate', 'status'], {
      cwd: mkdtempSync(path.join(tmpdir(), 'bk-')),
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('DATABASE_URL is not set')
    expect(result.stderr).toContain('--database-url')
  })

  it('an unreachable database fails within 5 s, names host:port and never the password', async () => {
    const dir = emptyProject()
    const url = `postgres://admin:Sup3r%2Fsecret@127.0.0.1:${closedPort}/app`
    for (const args of [
      ['migrate', 'status'],
      ['migrate', 'status', '--debug'],
      ['migrate', 'status', '--json'],
    ]) {
      const result = await runBin([...args, '--database-url', url], { cwd: dir })
      expect(result.code).toBe(1)
      expect(result.ms).toBeLessThan(5_000)
      expect(result.stderr).toContain(
        `Cannot connect to PostgreSQL at 127.0.0.1:${closedPort}: connection refused`,
      )
      expect(result.stderr).toMatch(/^hint: /m)
      for (const output of [result.stdout, result.stderr]) {
        expect(output).not.toContain('Sup3r')
        expect(output).not.toContain('secret')
      }
    }
  })

  it('a server that accepts but never answers: the command fails within 5 s', async () => {
    // A black hole on loopback: it takes the TCP connection and never speaks PostgreSQL.
    const sockets: net.Socket[] = []
    const server = net.createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    try {
      const result = await runBin(
        ['migrate', 'status', '--database-url', `postgres://u:pw123@127.0.0.1:${port}/db`],
        {
          cwd: emptyProject(),
        },
      )
      expect(result.code).toBe(1)
      // the whole command, Node's start included, within the contract's 5 s
      expect(result.ms).toBeGreaterThan(3_500)
      expect(result.ms).toBeLessThan(5_000)
      expect(result.stderr).toContain(
        `Cannot connect to PostgreSQL at 127.0.0.1:${port}: timed out after 4 s`,
      )
      expect(result.stderr).not.toContain('pw123')
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  })

  it('--json prints exactly one JSON value on stdout, even for an error', async () => {
    const result = await runCli(['migrate', 'status', '--json', '--database-url', 'nope'])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout)).toEqual({
      error: expect.objectContaining({
        code: 'E_BAD_URL',
        message: expect.stringContaining('Malformed'),
      }),
    })
  })

  it('an invalid backendkit.json is a usage error naming the bad field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bk-'))
    writeFileSync(
      path.join(dir, 'backendkit.json'),
      JSON.stringify({ name: 'x', health: { url: 'ftp://x' } }),
    )
    const result = await runCli(['health'], { cwd: dir })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/backendkit.json is invalid: field "health.url"/)
    writeFileSync(path.join(dir, 'backendkit.json'), JSON.stringify({ name: 'x', migration: {} }))
    expect((await runCli(['health'], { cwd: dir })).stderr).toContain('unknown field "migration"')
    writeFileSync(path.join(dir, 'backendkit.json'), '{ nope')
    expect((await runCli(['health'], { cwd: dir })).stderr).toContain(
      'backendkit.json is not valid JSON',
    )
  })

  describe('a broken backendkit.json stops only the commands that read it', () => {
    const broken = () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'bk-'))
      writeFileSync(path.join(dir, 'backendkit.json'), '{ "name": "x", ')
      return dir
    }

    it.each([
      [['recipes']],
      [['new', 'svc', '--dry-run', '--no-install', '--no-git']],
      [['--help']],
      [['migrate', 'up', '--help']],
      // reads Redis only (a prefix nothing uses): the prefix is given, so the file is not needed
      [['cache', 'stats', '--prefix', 'bk-cli-test-unused:', '--redis-url', testServices.redisUrl]],
    ])('%j runs (exit 0)', async (args) => {
      const result = await runCli(args, { cwd: broken() })
      expect(result.stderr).not.toContain('backendkit.json')
      expect(result.code).toBe(0)
    })

    it('health <url> probes the default paths and warns about the file', async () => {
      const probe = net.createServer()
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
      const { port } = probe.address() as net.AddressInfo
      await new Promise((resolve) => probe.close(resolve))
      const result = await runCli(['health', `http://127.0.0.1:${port}`, '--json'], {
        cwd: broken(),
      })
      expect(result.code).toBe(1) // not ready: nothing listens there
      expect(JSON.parse(result.stdout).readiness.url).toBe(`http://127.0.0.1:${port}/health/ready`)
      expect(result.stderr).toMatch(/warning: backendkit.json is not valid JSON.*default paths/)
    })

    it.each([
      [['health']],
      [['migrate', 'status', '--database-url', `postgres://127.0.0.1:${closedPort}/x`]],
      [['migrate', 'make', 'x']],
    ])('%j, which needs it, is a usage error naming it', async (args) => {
      const result = await runCli(args, { cwd: broken() })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('backendkit.json is not valid JSON')
    })
  })

  it.each([
    ['text', []],
    ['--json', ['--json']],
    ['--debug', ['--debug']],
  ])('every credential of a connection string stays hidden (%s)', async (_, flags) => {
    const query = '?sslmode=disable&password=Qu3ry-pw&sslpassword=Ss1-pw&application_name=visible'
    const url = `postgres://admin:Us3rinfo%40pw@127.0.0.1:${closedPort}/app${query}`
    const result = await runBin(['migrate', 'status', ...flags, '--database-url', url], {
      cwd: emptyProject(),
    })
    expect(result.code).toBe(1)
    const output = result.stdout + result.stderr
    expect(output).toContain(`127.0.0.1:${closedPort}`)
    for (const secret of ['Us3rinfo', 'Qu3ry-pw', 'Ss1-pw']) expect(output).not.toContain(secret)
    // a malformed URL (the port is out of range) is echoed masked, too
    const malformed = `postgres://admin:Us3rinfo%40pw@127.0.0.1:99999/app${query}`
    const bad = await runCli(['migrate', 'status', ...flags, '--database-url', malformed])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('password=***')
    for (const secret of ['Us3rinfo', 'Qu3ry-pw', 'Ss1-pw']) {
      expect(bad.stdout + bad.stderr).not.toContain(secret)
    }
  })

  it('refuses an old Node with a clear message (exit 2)', async () => {
    const oldNode = '/usr/bin/node'
    let version = ''
    try {
      version = execFileSync(oldNode, ['--version'], { encoding: 'utf8' }).trim()
    } catch {
      return // no system Node on this machine: nothing to compare against
    }
    const [major = 0, minor = 0] = version.slice(1).split('.').map(Number)
    if (major > 22 || (major === 22 && minor >= 12)) return
    const result = await runBin(['--help'], { node: oldNode })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`backendkit needs Node.js 22.12 or newer; this is ${version}`)
  })
})
