import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { runBin, runCli } from '../support/cli.js'
import { closedPort } from '../support/env.js'
import { ServiceKeys } from '../support/redis-layout.js'
import { useRedisPrefix } from '../support/services.js'

const space = useRedisPrefix('ratelimit')
let run = 0
let service: ServiceKeys
const services: ServiceKeys[] = []
afterAll(() => {
  for (const s of services) s.close()
})

/** Each test works under a prefix of its own, inside the file's. */
beforeEach(async () => {
  service = new ServiceKeys(`${space.prefix}t${++run}:`)
  services.push(service)
  await service.definePolicies({ default: { q: 5, w: 60 }, auth: { q: 3, w: 600 } })
})

function ratelimit(args: string[], options: { tty?: boolean; answers?: boolean[] } = {}) {
  return runCli(['ratelimit', ...args, '--prefix', service.prefix], {
    env: { REDIS_URL: space.url },
    ...options,
  })
}

const json = async (args: string[]) => {
  const result = await ratelimit([...args, '--json'])
  return { code: result.code, data: JSON.parse(result.stdout) }
}

describe('backendkit ratelimit (real Redis)', () => {
  it('list: count, remaining and reset per identity and policy, busiest first', async () => {
    await service.admit('default', 'ip:203.0.113.7', 5)
    await service.admit('default', 'ip:::1', 2)
    await service.admit('auth', 'ip:203.0.113.7', 1, 600)
    await service.admit('retired', 'user:42', 4) // a policy the service no longer describes
    const { code, data } = await json(['list'])
    expect(code).toBe(0)
    expect(data).toEqual({
      prefix: service.prefix,
      policies: [
        { name: 'auth', quota: 3, window: 600 },
        { name: 'default', quota: 5, window: 60 },
      ],
      matched: 4,
      truncated: false,
      entries: [
        {
          redisKey: `${service.prefix}rl:default:ip:203.0.113.7`,
          policy: 'default',
          identity: 'ip:203.0.113.7',
          count: 5,
          quota: 5,
          window: 60,
          remaining: 0,
          // the oldest of the five was admitted 4 s ago: it leaves the 60 s window in 56 s
          reset: expect.toSatisfy((s: number) => s >= 55 && s <= 56),
          error: null,
        },
        expect.objectContaining({
          identity: 'user:42',
          policy: 'retired',
          count: 4,
          quota: null,
          remaining: null,
          reset: null,
        }),
        expect.objectContaining({ identity: 'ip:::1', count: 2, remaining: 3 }),
        expect.objectContaining({
          identity: 'ip:203.0.113.7',
          policy: 'auth',
          count: 1,
          remaining: 2,
        }),
      ],
    })
    const text = await ratelimit(['list'])
    expect(text.stdout).toMatch(/ip:203\.0\.113\.7\s+default\s+5\s+5\s+0\s+5\d s\s+limited/)
    expect(text.stdout).toContain('Policy retired is not in')
  })

  it('list counts only requests inside the window', async () => {
    // 3 requests 40 s apart: the one from 80 s ago is outside the 60 s window
    await service.admit('default', 'user:7', 3, 120, 40_000)
    const { data } = await json(['list'])
    expect(data.entries).toEqual([
      expect.objectContaining({
        count: 2,
        remaining: 3,
        reset: expect.toSatisfy((s: number) => s >= 19 && s <= 20),
      }),
    ])
  })

  it('list --match, --policy and --limit', async () => {
    await service.admit('default', 'ip:10.0.0.1', 1)
    await service.admit('default', 'ip:10.0.0.2', 3)
    await service.admit('auth', 'ip:10.0.0.2', 2, 600)
    await service.admit('default', 'user:10', 2)
    const ids = (data: { entries: { identity: string; policy: string }[] }) =>
      data.entries.map((e) => `${e.policy}/${e.identity}`)
    expect(ids((await json(['list', '--match', 'ip:10.*'])).data)).toEqual([
      'default/ip:10.0.0.2',
      'auth/ip:10.0.0.2',
      'default/ip:10.0.0.1',
    ])
    // the glob applies to the identity: "10*" does not match "ip:10…" nor "user:10"
    expect((await json(['list', '--match', '10*'])).data.entries).toEqual([])
    expect(ids((await json(['list', '--policy', 'auth'])).data)).toEqual(['auth/ip:10.0.0.2'])
    const limited = (await json(['list', '--limit', '2'])).data
    expect(limited).toMatchObject({ matched: 4, truncated: true })
    expect(ids(limited)).toEqual(['default/ip:10.0.0.2', 'auth/ip:10.0.0.2'])
    const none = await ratelimit(['list', '--match', 'nobody:*'])
    expect(none.code).toBe(0)
    expect(none.stdout).toContain('No rate-limit keys matching "nobody:*"')
  })

  it('inspect shows every policy; an identity with no key exits 1', async () => {
    await service.admit('default', 'account:ann@example.com', 2)
    const { code, data } = await json(['inspect', 'account:ann@example.com'])
    expect(code).toBe(0)
    expect(data).toMatchObject({ identity: 'account:ann@example.com', found: true })
    expect(
      data.entries.map((e: { policy: string; count: number; remaining: number }) => [
        e.policy,
        e.count,
        e.remaining,
      ]),
    ).toEqual([
      ['auth', 0, 3],
      ['default', 2, 3],
    ])
    const missing = await ratelimit(['inspect', 'account:nobody@example.com'])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toContain('No rate-limit key for account:nobody@example.com')
  })

  it('reset frees an identity at once in every policy, and touches nothing else', async () => {
    await service.admit('default', 'ip:203.0.113.7', 5)
    await service.admit('auth', 'ip:203.0.113.7', 3, 600)
    await service.admit('retired', 'ip:203.0.113.7', 1)
    const other = await service.admit('default', 'ip:203.0.113.70', 5)
    const { code, data } = await json(['reset', 'ip:203.0.113.7', '--yes'])
    expect(code).toBe(0)
    expect(data).toEqual({
      prefix: service.prefix,
      dryRun: false,
      matched: 3,
      deleted: 3,
      targets: [
        {
          target: 'ip:203.0.113.7',
          kind: 'identity',
          matched: 3,
          deleted: 3,
          redisKeys: expect.arrayContaining([`${service.prefix}rl:auth:ip:203.0.113.7`]),
          error: null,
        },
      ],
    })
    const after = (await json(['inspect', 'ip:203.0.113.7'])).data
    expect(after.found).toBe(false)
    expect(after.entries.every((e: { remaining: number; count: number }) => e.count === 0)).toBe(
      true,
    )
    expect(await service.keys()).toEqual([other, `${service.prefix}rl-policies`].sort())
  })

  it("reset tells the service's instances, so they drop what they hold locally; a dry run does not", async () => {
    const { Redis } = await import('ioredis')
    const listener = new Redis(space.url)
    const heard: unknown[] = []
    try {
      await listener.subscribe(`${service.prefix}rl-reset`)
      listener.on('message', (_channel: string, message: string) => heard.push(JSON.parse(message)))
      await service.admit('default', 'user:77', 5)
      await service.admit('default', 'ip:10.9.9.9', 1)
      expect((await ratelimit(['reset', 'user:77', '--dry-run', '--yes'])).code).toBe(0)
      expect((await ratelimit(['reset', 'user:77', '--yes'])).code).toBe(0)
      expect(
        (await ratelimit(['reset', '--match', 'ip:10.9.*', '--policy', 'default', '--yes'])).code,
      ).toBe(0)
      for (let i = 0; i < 40 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 25))
      expect(heard).toEqual([
        { policy: null, identities: ['user:77'] },
        { policy: 'default', match: 'ip:10.9.*' },
      ])
    } finally {
      listener.disconnect()
    }
  })

  it('reset --policy clears one policy only', async () => {
    await service.admit('default', 'user:1', 5)
    const auth = await service.admit('auth', 'user:1', 3, 600)
    expect((await ratelimit(['reset', 'user:1', '--policy', 'default', '--yes'])).code).toBe(0)
    expect((await service.keys()).filter((k) => k.includes(':rl:'))).toEqual([auth])
  })

  it('identities are literal; --match is a glob on the identity', async () => {
    const a = await service.admit('default', 'ip:10.0.0.1', 1)
    const b = await service.admit('default', 'ip:10.0.0.2', 1)
    const c = await service.admit('auth', 'user:10', 1)
    // "ip:*" named literally is an identity nobody has: nothing matched, exit 1, nothing gone
    const literal = await ratelimit(['reset', 'ip:*', '--yes'])
    expect(literal.code).toBe(1)
    expect(literal.stdout).toMatch(/ip:\*\s+identity\s+nothing matched/)
    expect((await service.keys()).filter((k) => k.includes(':rl:'))).toEqual([c, a, b].sort())
    const glob = await json(['reset', '--match', 'ip:*', '--yes'])
    expect(glob.code).toBe(0)
    expect(glob.data).toMatchObject({
      matched: 2,
      deleted: 2,
      targets: [{ target: 'ip:*', kind: 'match' }],
    })
    expect((await service.keys()).filter((k) => k.includes(':rl:'))).toEqual([c])
    expect((await ratelimit(['reset', '--match', 'ip:*', '--yes'])).code).toBe(1)
  })

  it('names and a glob together, or neither, or a bad policy name: usage errors (exit 2)', async () => {
    for (const args of [
      ['reset', 'ip:1', '--match', 'ip:*'],
      ['reset'],
      ['list', '--policy', 'Bad:Name'],
    ]) {
      const result = await ratelimit([...args, '--yes'])
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/^hint: /m)
    }
  })

  it('--dry-run lists what would go and changes nothing', async () => {
    await service.admit('default', 'ip:1.1.1.1', 2)
    await service.admit('auth', 'ip:1.1.1.1', 1, 600)
    const before = await service.keys()
    const literal = await json(['reset', 'ip:1.1.1.1', '--dry-run'])
    expect(literal.code).toBe(0)
    expect(literal.data).toMatchObject({ dryRun: true, matched: 2, deleted: 0 })
    const glob = await ratelimit(['reset', '--match', 'ip:*', '--dry-run'])
    expect(glob.stdout).toContain(`${service.prefix}rl:auth:ip:1.1.1.1`)
    expect(glob.stdout).toContain('2 keys would go; nothing was changed')
    expect(await service.keys()).toEqual(before)
  })

  it('asks first: no terminal without --yes exits 2, "no" exits 1, "yes" resets; nothing changes until yes', async () => {
    await service.admit('default', 'ip:9.9.9.9', 5)
    await service.admit('default', 'ip:9.9.9.8', 5)
    const before = await service.keys()
    const refused = await ratelimit(['reset', 'ip:9.9.9.9'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('Refusing to reset')
    const no = await ratelimit(['reset', '--match', 'ip:9.*'], { tty: true, answers: [false] })
    expect(no.code).toBe(1)
    expect(no.stderr).toContain('Cancelled; nothing was changed.')
    expect(no.prompts).toEqual([
      expect.stringMatching(
        /^Reset 2 rate-limit keys whose identity matches "ip:9\.\*" in every policy under .*rl: on redis:/,
      ),
    ])
    expect(await service.keys()).toEqual(before)
    const yes = await ratelimit(['reset', 'ip:9.9.9.9'], { tty: true, answers: [true] })
    expect(yes.code).toBe(0)
    expect(yes.prompts).toEqual([
      expect.stringMatching(/^Reset 1 rate-limit key of ip:9\.9\.9\.9 in every policy/),
    ])
    expect(await service.keys()).toHaveLength(before.length - 1)
  })

  it('an unreachable Redis fails within 5 s, names host:port and hides the password', async () => {
    for (const url of [
      `redis://:Sup3rSecret@127.0.0.1:${closedPort}`,
      `redis://admin:Sup3rSecret@127.0.0.1:${closedPort}/0?password=Qu3rySecret`,
    ]) {
      const result = await runBin([
        'ratelimit',
        'list',
        '--json',
        '--debug',
        '--redis-url',
        url,
        '--prefix',
        'x:',
      ])
      expect(result.code).toBe(1)
      // refused answers at once: no 2 s socket-close timer keeps the process alive
      expect(result.ms).toBeLessThan(2_000)
      expect(result.stderr).toContain(`Cannot connect to Redis at 127.0.0.1:${closedPort}`)
      expect(JSON.parse(result.stdout).error.code).toBe('E_CONNECT')
      expect(result.stdout + result.stderr).not.toMatch(/Sup3rSecret|Qu3rySecret/)
    }
  })
})
