import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { ServiceKeys } from '../support/redis-layout.js'
import { useRedisPrefix } from '../support/services.js'

const space = useRedisPrefix('cache')
let run = 0
let service: ServiceKeys
const services: ServiceKeys[] = []
afterAll(() => {
  for (const s of services) s.close()
})

/** Each test works under a prefix of its own, inside the file's (which is cleaned up after). */
function useService(prefix: string): ServiceKeys {
  service = new ServiceKeys(prefix)
  services.push(service)
  return service
}
beforeEach(() => {
  useService(`${space.prefix}t${++run}:`)
})

function cache(args: string[], options: { tty?: boolean; answers?: boolean[] } = {}) {
  return runCli(['cache', ...args, '--prefix', service.prefix], {
    env: { REDIS_URL: space.url },
    ...options,
  })
}

const json = async (args: string[]) => {
  const result = await cache([...args, '--json'])
  return { code: result.code, data: JSON.parse(result.stdout) }
}

describe('backendkit cache (real Redis)', () => {
  it('get shows value, TTL, tags and when it was stored; a missing key exits 1', async () => {
    const before = Date.now()
    await service.cache('post:1', { id: 1, title: 'Hello' }, ['post:1', 'user:9'], 300)
    const { code, data } = await json(['get', 'post:1'])
    expect(code).toBe(0)
    expect(data).toEqual({
      prefix: service.prefix,
      key: 'post:1',
      redisKey: `${service.prefix}cache:post:1`,
      found: true,
      ttlMs: expect.toSatisfy((ms: number) => ms > 290_000 && ms <= 300_000),
      storedAt: expect.any(String),
      tags: ['post:1', 'user:9'],
      value: { id: 1, title: 'Hello' },
      envelope: true,
      error: null,
    })
    expect(Math.abs(Date.parse(data.storedAt) - before)).toBeLessThan(5_000)
    const text = await cache(['get', 'post:1'])
    expect(text.stdout).toMatch(/ttl\s+4m 5\ds/)
    expect(text.stdout).toContain('"title": "Hello"')

    const missing = await cache(['get', 'post:404'])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toContain(`No cache entry post:404 (${service.prefix}cache:post:404)`)
    expect((await json(['get', 'post:404'])).data).toMatchObject({ found: false, value: null })
  })

  it('get shows a value outside the cache layout as stored', async () => {
    await service.redis.set(`${service.prefix}cache:legacy`, 'plain text')
    const { code, data } = await json(['get', 'legacy'])
    expect(code).toBe(0)
    expect(data).toMatchObject({ found: true, envelope: false, value: 'plain text', ttlMs: null })
  })

  it('invalidate <key...>: per-key results; a missing key is reported and exits 1, the rest still goes', async () => {
    await service.cache('a', 1)
    await service.cache('b', 2)
    const keep = await service.cache('c', 3)
    const { code, data } = await json(['invalidate', 'a', 'b', 'missing', '--yes'])
    expect(code).toBe(1)
    expect(data).toEqual({
      prefix: service.prefix,
      dryRun: false,
      matched: 2,
      deleted: 2,
      targets: [
        {
          target: 'a',
          kind: 'key',
          matched: 1,
          deleted: 1,
          redisKeys: [`${service.prefix}cache:a`],
          error: null,
        },
        {
          target: 'b',
          kind: 'key',
          matched: 1,
          deleted: 1,
          redisKeys: [`${service.prefix}cache:b`],
          error: null,
        },
        { target: 'missing', kind: 'key', matched: 0, deleted: 0, redisKeys: [], error: null },
      ],
    })
    expect(await service.keys()).toEqual([keep])
    const text = await cache(['invalidate', 'c', '--yes'])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`Deleted 1 key under ${service.prefix}`)
  })

  it('keys are literal; --match is a glob relative to <prefix>cache:', async () => {
    const star = await service.cache('post:*', 'a key really named post:*')
    await service.cache('post:1', 1)
    await service.cache('post:2', 2)
    const user = await service.cache('user:1', 3)
    expect((await cache(['invalidate', 'post:*', '--yes'])).code).toBe(0)
    expect(await service.keys()).toEqual(
      [`${service.prefix}cache:post:1`, `${service.prefix}cache:post:2`, user].sort(),
    )
    await service.cache('post:*', 'again')
    const glob = await json(['invalidate', '--match', 'post:[12]', '--yes'])
    expect(glob.data).toMatchObject({
      matched: 2,
      deleted: 2,
      targets: [{ kind: 'match', target: 'post:[12]' }],
    })
    expect(await service.keys()).toEqual([star, user].sort())
    const none = await cache(['invalidate', '--match', 'nothing:*', '--yes'])
    expect(none.code).toBe(1)
    expect(none.stdout).toMatch(/nothing:\*\s+match\s+nothing matched/)
  })

  it('--tag removes the tagged entries and the tag, and nothing else', async () => {
    await service.cache('post:1', 1, ['post:1', 'user:9'])
    await service.cache('post:2', 2, ['post:2', 'user:9'])
    const other = await service.cache('post:3', 3, ['post:3'])
    const { code, data } = await json(['invalidate', '--tag', 'user:9', '--yes'])
    expect(code).toBe(0)
    // two entries and the tag set itself
    expect(data).toMatchObject({
      matched: 3,
      deleted: 3,
      targets: [{ target: 'user:9', kind: 'tag' }],
    })
    const left = await service.keys()
    expect(left).toContain(other)
    expect(left).not.toContain(`${service.prefix}cache-tags:user:9`)
    expect(left.filter((k) => k.includes(':cache:'))).toEqual([other])
    // a tag nobody uses: nothing matched
    expect((await cache(['invalidate', '--tag', 'user:404', '--yes'])).code).toBe(1)
    // several tags at once
    await service.cache('x', 0, ['t1'])
    await service.cache('y', 0, ['t2'])
    const two = await json(['invalidate', '--tag', 't1', '--tag', 't2', '--yes'])
    expect(
      two.data.targets.map((t: { target: string; deleted: number }) => [t.target, t.deleted]),
    ).toEqual([
      ['t1', 2],
      ['t2', 2],
    ])
  })

  it('--all empties <prefix>cache: and <prefix>cache-tags:; stats and every key outside the prefix survive', async () => {
    // The command's prefix is inside the file's; canaries sit next to it.
    const outer = service.prefix
    const canaries = [`${outer}cache:canary`, `${outer}other:cache:x`, `${outer}svc-other:cache:y`]
    for (const key of canaries) await service.redis.set(key, 'must survive')
    useService(`${outer}svc:`)
    for (let i = 0; i < 50; i++) await service.cache(`post:${i}`, i, [`post:${i}`, 'all-posts'])
    await service.stats(10, 5)
    const { code, data } = await json(['invalidate', '--all', '--yes'])
    expect(code).toBe(0)
    expect(data).toMatchObject({
      matched: 101,
      deleted: 101,
      targets: [{ target: '*', kind: 'all' }],
    })
    expect(await service.keys()).toEqual([`${service.prefix}cache-stats`])
    for (const key of canaries) expect(await service.redis.get(key)).toBe('must survive')
  })

  it('a prefix holding glob characters matches only itself', async () => {
    const outer = service.prefix
    // Unescaped, the pattern "s*[ab]?\x:cache:*" would match every one of these.
    const canaries = [
      `${outer}sXXa1x:cache:k`,
      `${outer}s[ab]?\\x:cache:k`,
      `${outer}sb!x:cache:k`,
      `${outer}s*[ab]?\\x:cachey`,
    ]
    for (const key of canaries) await service.redis.set(key, 'must survive')
    useService(`${outer}s*[ab]?\\x:`)
    await service.cache('k', 1, ['t'])
    await service.cache('k2', 2)
    expect((await json(['invalidate', '--match', '*', '--dry-run'])).data.matched).toBe(2)
    expect((await json(['stats'])).data).toMatchObject({ keys: 2, tags: 1 })
    const { data } = await json(['invalidate', '--all', '--yes'])
    expect(data.deleted).toBe(3)
    // under the prefix but outside cache: and cache-tags:, the last canary is all that is left
    expect(await service.keys()).toEqual([`${outer}s*[ab]?\\x:cachey`])
    for (const key of canaries) expect(await service.redis.get(key)).toBe('must survive')
  })

  it('--dry-run counts and lists what would go, and changes nothing', async () => {
    for (let i = 0; i < 30; i++) await service.cache(`item:${i}`, i, ['items'])
    const before = await service.keys()
    for (const args of [
      ['--all'],
      ['--match', 'item:*'],
      ['--tag', 'items'],
      ['item:1', 'item:2'],
    ]) {
      const result = await json(['invalidate', ...args, '--dry-run'])
      expect(result.code, args.join(' ')).toBe(0)
      expect(result.data.dryRun).toBe(true)
      expect(result.data.deleted).toBe(0)
    }
    expect((await json(['invalidate', '--all', '--dry-run'])).data.matched).toBe(31)
    const text = await cache(['invalidate', '--match', 'item:*', '--dry-run'])
    expect(text.stdout).toContain('Dry run on redis://')
    expect(text.stdout).toContain('30 keys would go; nothing was changed.')
    expect(await service.keys()).toEqual(before)
  })

  it('asks first: no terminal without --yes exits 2, "no" exits 1, "yes" deletes; nothing changes until yes', async () => {
    await service.cache('a', 1, ['t'])
    await service.cache('b', 2, ['t'])
    const before = await service.keys()
    for (const args of [['a'], ['--match', '*'], ['--tag', 't'], ['--all']]) {
      const refused = await cache(['invalidate', ...args])
      expect(refused.code, args.join(' ')).toBe(2)
      expect(refused.stderr).toContain('--yes')
    }
    const no = await cache(['invalidate', '--all'], { tty: true, answers: [false] })
    expect(no.code).toBe(1)
    expect(no.stderr).toContain('Cancelled; nothing was changed.')
    expect(no.prompts).toEqual([
      expect.stringMatching(/^Delete 3 keys: every cache entry and tag under /),
    ])
    expect(await service.keys()).toEqual(before)
    const yes = await cache(['invalidate', '--tag', 't'], { tty: true, answers: [true] })
    expect(yes.prompts).toEqual([
      expect.stringMatching(/^Delete 3 keys: the entries tagged t and the tag/),
    ])
    expect(yes.code).toBe(0)
    expect(await service.keys()).toEqual([])
  })

  it('names and a flag together, or nothing at all: usage errors (exit 2)', async () => {
    for (const args of [['a', '--all'], ['--match', '*', '--tag', 't'], []]) {
      const result = await cache(['invalidate', ...args, '--yes'])
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/^hint: /m)
    }
  })

  it('stats: entries, tags, approximate memory, hits, misses and hit ratio', async () => {
    const empty = await json(['stats'])
    expect(empty.data).toEqual({
      prefix: service.prefix,
      keys: 0,
      tags: 0,
      memoryBytes: 0,
      memoryExact: true,
      hits: 0,
      misses: 0,
      hitRatio: null,
    })
    for (let i = 0; i < 20; i++) await service.cache(`k:${i}`, 'x'.repeat(100), ['k'])
    await service.stats(30, 10)
    const { data } = await json(['stats'])
    expect(data).toMatchObject({
      keys: 20,
      tags: 1,
      memoryExact: true,
      hits: 30,
      misses: 10,
      hitRatio: 0.75,
    })
    expect(data.memoryBytes).toBeGreaterThan(20 * 100)
    expect((await cache(['stats'])).stdout).toMatch(/hit ratio\s+75\.0 %/)
  })

  it('deletes thousands of keys through several SCAN and UNLINK batches', async () => {
    const pipeline = service.redis.pipeline()
    for (let i = 0; i < 5_000; i++)
      pipeline.set(`${service.prefix}cache:bulk:${i}`, '{"v":1,"tags":[],"at":0}')
    await pipeline.exec()
    const { code, data } = await json(['invalidate', '--match', 'bulk:*', '--yes'])
    expect(code).toBe(0)
    expect(data).toMatchObject({ matched: 5_000, deleted: 5_000 })
    expect(await service.keys()).toEqual([])
  })
})
