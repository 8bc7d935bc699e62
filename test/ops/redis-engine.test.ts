import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { deleteEach, deleteKeys } from '../../src/redis/delete.js'
import { escapeGlob, matchesGlob, prefixedPattern } from '../../src/redis/glob.js'
import { scanKeys } from '../../src/redis/scan.js'
import { testServices } from '../support/env.js'
import { useRedisPrefix } from '../support/services.js'

const space = useRedisPrefix('engine')
const redis = new Redis(testServices.redisUrl)
afterAll(() => redis.disconnect())

async function scanAll(match: string): Promise<string[]> {
  const found = new Set<string>()
  for await (const batch of scanKeys(redis, { match })) for (const key of batch) found.add(key)
  return [...found].sort()
}

describe('Redis globs', () => {
  const names = [
    'ip:10.0.0.1',
    'ip:::1',
    'user:42',
    'a*b',
    'a?b',
    'a[b]',
    'a\\b',
    'abc',
    'acb',
    'a-b',
    'ü:1',
    '',
  ]
  const globs = [
    '*',
    'ip:*',
    'ip:?*',
    'a?b',
    'a\\*b',
    'a[*?]b',
    'a[^b]b',
    'a[a-c]b',
    'a[c-a]b',
    'a\\\\b',
    'a[\\]]',
    '[iu]*:1',
    '?:1',
    'user:4[0-9]',
    'a[',
    'ab[',
    '*:*:*',
  ]

  it.each(globs)(
    '%j matches on the client exactly what SCAN MATCH matches in Redis',
    async (glob) => {
      const base = `${space.prefix}glob:`
      const pipeline = redis.pipeline()
      for (const name of names) pipeline.set(base + name, '1')
      await pipeline.exec()
      const inRedis = (await scanAll(escapeGlob(base) + glob)).map((key) => key.slice(base.length))
      expect(names.filter((name) => matchesGlob(glob, name)).sort()).toEqual(inRedis)
    },
  )

  it.each([
    ['pre*fix:', 'pre*fix:a', true],
    ['pre*fix:', 'preXXfix:a', false],
    ['p[ab]?\\:', 'p[ab]?\\:x', true],
    ['p[ab]?\\:', 'pa1\\:x', false],
  ])('a prefix %j escaped matches %j: %s', (prefix, key, expected) => {
    expect(matchesGlob(prefixedPattern(prefix), key)).toBe(expected)
  })
})

describe('deleteKeys', () => {
  it('never deletes a key outside `within`, whatever the batches hold', async () => {
    const inside = `${space.prefix}in:`
    const outside = `${space.prefix}out`
    await redis.mset(`${inside}a`, 1, `${inside}b`, 1, outside, 1)
    const report = await deleteKeys(redis, [[`${inside}a`, outside], [`${inside}b`]], {
      within: inside,
    })
    expect(report).toEqual({
      matched: 2,
      deleted: 2,
      sample: [`${inside}a`, `${inside}b`],
      unconfirmed: 0,
      error: null,
    })
    expect(await redis.exists(outside)).toBe(1)
  })

  it('a connection lost half way is reported with the counts so far, not thrown', async () => {
    const base = `${space.prefix}drop:`
    const pipeline = redis.pipeline()
    for (let i = 0; i < 20_000; i++) pipeline.set(`${base}${i}`, '1')
    await pipeline.exec()
    const victim = new Redis(testServices.redisUrl, {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    victim.on('error', () => {})
    const id = await victim.client('ID')
    let killed = false
    const report = await deleteKeys(victim, scanKeys(victim, { match: `${escapeGlob(base)}*` }), {
      within: base,
      onProgress: (r) => {
        if (!killed && r.matched >= 3_000) {
          killed = true
          void redis.client('KILL', 'ID', String(id))
        }
      },
    })
    victim.disconnect()
    expect(killed).toBe(true)
    expect(report.error).toEqual(expect.any(String))
    expect(report.deleted).toBeGreaterThan(0)
    expect(report.deleted).toBeLessThan(20_000)
    // What it says went, went; of the keys sent without an answer, some may have gone too.
    const left = (await scanAll(`${escapeGlob(base)}*`)).length
    expect(left).toBeLessThanOrEqual(20_000 - report.deleted)
    expect(left).toBeGreaterThanOrEqual(20_000 - report.deleted - report.unconfirmed)
  })

  it('deleteEach gives each key its outcome; a dry run only looks', async () => {
    const base = `${space.prefix}each:`
    await redis.set(`${base}here`, 1)
    const keys = [`${base}here`, `${base}gone`]
    const look = await deleteEach(redis, keys, { within: base, dryRun: true })
    expect(look.map((o) => o.existed)).toEqual([true, false])
    expect(await redis.exists(`${base}here`)).toBe(1)
    const done = await deleteEach(redis, keys, { within: base })
    expect(done).toEqual([
      { key: `${base}here`, existed: true, error: null },
      { key: `${base}gone`, existed: false, error: null },
    ])
    expect(await redis.exists(`${base}here`)).toBe(0)
  })
})
