import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { testServices } from '../support/env.js'
import { useRedisPrefix } from '../support/services.js'

/**
 * `backendkit down` / `up` on a real Redis, read back as the maintenance recipe's watcher reads
 * it (README: "Redis key layout"): the key, and the announcement on the channel of its name.
 */

const space = useRedisPrefix('maintenance')
const redis = new Redis(testServices.redisUrl)
const listener = new Redis(testServices.redisUrl)
const announced: string[] = []
let run = 0
let prefix: string

beforeAll(async () => {
  listener.on('pmessage', (_pattern, channel, message) => announced.push(`${channel} ${message}`))
  await listener.psubscribe(`${space.prefix}*`)
})
afterAll(async () => {
  await listener.quit()
  await redis.quit()
})
/** Each test works under a prefix of its own, inside the file's. */
beforeEach(() => {
  prefix = `${space.prefix}t${++run}:`
})

const key = () => `${prefix}maintenance`
const stored = async () => JSON.parse((await redis.get(key())) ?? 'null')

function cli(
  command: 'down' | 'up',
  args: string[] = [],
  options: { tty?: boolean; answers?: boolean[] } = {},
) {
  return runCli([command, ...args, '--prefix', prefix], {
    env: { REDIS_URL: space.url, BACKENDKIT_ACTOR: 'ops' },
    ...options,
  })
}

describe('backendkit down', () => {
  it('without a terminal needs --yes: exit 2 and nothing changed', async () => {
    const result = await cli('down')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Refusing to take the service .* into maintenance[\s\S]*--yes/)
    expect(await redis.exists(key())).toBe(0)
  })

  it('asks on a terminal; no changes nothing', async () => {
    const declined = await cli('down', [], { tty: true, answers: [false] })
    expect(declined.code).toBe(1)
    expect(declined.prompts).toEqual([
      expect.stringMatching(/^Take the service under .* into maintenance/),
    ])
    expect(await redis.exists(key())).toBe(0)
    const accepted = await cli('down', [], { tty: true, answers: [true] })
    expect(accepted.code).toBe(0)
    expect(await redis.exists(key())).toBe(1)
  })

  it('stores the state (the secret only as its hash), announces it, and shows the state it leaves', async () => {
    const secret = 'a-secret-for-the-team'
    const result = await cli('down', [
      '--yes',
      '--retry',
      '2m',
      '--secret',
      secret,
      '--message',
      'Upgrading the database',
      '--json',
    ])
    expect(result.code, result.stderr).toBe(0)
    const view = {
      since: expect.any(String),
      retryAfter: 120,
      message: 'Upgrading the database',
      bypass: true,
      by: 'ops',
    }
    expect(JSON.parse(result.stdout)).toEqual({
      prefix,
      key: key(),
      maintenance: true,
      dryRun: false,
      before: null,
      after: view,
      published: true,
    })
    expect(await stored()).toEqual({
      since: expect.any(String),
      retryAfter: 120,
      message: 'Upgrading the database',
      secretHash: createHash('sha256').update(secret).digest('hex'),
      by: 'ops',
    })
    expect(await redis.get(key())).not.toContain(secret)
    expect(result.stdout).not.toContain(secret)
    await expect.poll(() => announced).toContain(`${key()} down`)

    // A second `down` changes the state and keeps when it began.
    const since = (await stored()).since
    const again = JSON.parse((await cli('down', ['--yes', '--json'])).stdout)
    expect(again.before).toEqual(view)
    expect(again.after).toEqual({ since, retryAfter: 60, message: null, bypass: false, by: 'ops' })
  })

  it('--dry-run shows before → after and changes nothing', async () => {
    const result = await cli('down', ['--dry-run', '--retry', '30', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({
      maintenance: false,
      dryRun: true,
      before: null,
      after: { retryAfter: 30 },
      published: null,
    })
    expect(await redis.exists(key())).toBe(0)
  })

  it.each([
    [['--secret', 'short'], /--secret must be 8 to 128 characters/],
    [['--secret', 'has spaces in it'], /--secret must be/],
    [['--retry', 'soon'], /--retry <duration>.*Expected a duration/],
    [['--message', ''], /--message must be 1 to 500 characters/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const result = await cli('down', ['--yes', ...args])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toMatch(/^hint: /m)
    expect(await redis.exists(key())).toBe(0)
  })
})

describe('backendkit up', () => {
  it('ends maintenance without asking, announces it, and shows what it was', async () => {
    await cli('down', ['--yes', '--message', 'Back soon'])
    const result = await cli('up', ['--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      prefix,
      key: key(),
      maintenance: false,
      dryRun: false,
      before: expect.objectContaining({ message: 'Back soon', by: 'ops' }),
      after: null,
      published: true,
    })
    expect(await redis.exists(key())).toBe(0)
    await expect.poll(() => announced).toContain(`${key()} up`)
    const text = await cli('up')
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^Not in maintenance under .*; nothing to do\./)
  })

  it('--dry-run leaves it on', async () => {
    await cli('down', ['--yes'])
    const result = await cli('up', ['--dry-run'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Dry run: maintenance would end/)
    expect(await redis.exists(key())).toBe(1)
  })
})
