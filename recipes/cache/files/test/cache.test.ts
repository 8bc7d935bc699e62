import { Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { cache } from '../src/cache/module.js'
import { defineModule } from '../src/module.js'
import { redis } from '../src/redis/module.js'
import { startApp, type TestApp } from './support/app.js'
import { useRedisPrefix } from './support/redis.js'
import { TcpProxy } from './support/tcp-proxy.js'

const space = useRedisPrefix()

/**
 * The source of truth the cache sits in front of: items in memory, counting every load, with a
 * switch to hold a load in flight (for the race between a read and a write).
 */
const source = {
  items: new Map<string, string>(),
  loads: 0,
  hold: undefined as Promise<void> | undefined,
}

const items = defineModule({
  name: 'items',
  env: z.object({}),
  init({ services }) {
    const load = async (id: string) => {
      source.loads++
      const name = source.items.get(id)
      await source.hold // the answer is on its way back while a write commits
      return name === undefined ? undefined : { id, name }
    }
    const router = Router()
    router.get('/items/:id', async (req, res) => {
      const ttlSeconds = Number(req.query.ttl ?? 60)
      const item = await services.cache.getOrLoad(
        `item:${req.params.id}`,
        { ttlSeconds, tags: [`item:${req.params.id}`, 'items'] },
        () => load(req.params.id),
      )
      if (!item) {
        res.status(404).json({ error: { message: 'Not found', code: 'NOT_FOUND' } })
        return
      }
      res.json(item)
    })
    router.put('/items/:id', async (req, res) => {
      source.items.set(req.params.id, req.body.name)
      await services.cache.invalidateTags([`item:${req.params.id}`])
      res.json({ id: req.params.id, name: req.body.name })
    })
    // Depends on the caller: what an HTTP cache must never hand to someone else.
    router.get('/me', (req, res) => {
      res.json({ caller: req.headers.authorization ?? 'anonymous' })
    })
    return { routes: [{ path: '/api', router }] }
  },
})

let counter = 0
const freshId = () => `${Date.now()}-${counter++}`
const getItem = (app: TestApp, id: string, query = '') =>
  fetch(`${app.url}/api/items/${id}${query}`)
const putItem = (app: TestApp, id: string, name: string) =>
  fetch(`${app.url}/api/items/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  })
/** A new item in the source, not cached yet. */
const newItem = (name = 'first') => {
  const id = freshId()
  source.items.set(id, name)
  return id
}

describe('cache-aside in Redis', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ modules: [redis, cache, items], env: space.env })
  })
  afterAll(() => app.close())

  it('loads on a miss, stores JSON with its tags and TTL under the prefix, then serves hits', async () => {
    const id = newItem()
    const before = source.loads
    expect(await (await getItem(app, id)).json()).toEqual({ id, name: 'first' })
    expect(await (await getItem(app, id)).json()).toEqual({ id, name: 'first' })
    expect(source.loads - before).toBe(1)

    const stored = JSON.parse((await space.redis.get(`${space.prefix}cache:item:${id}`)) as string)
    expect(stored).toEqual({
      v: { id, name: 'first' },
      tags: [`item:${id}`, 'items'],
      at: expect.any(Number),
    })
    const ttl = await space.redis.ttl(`${space.prefix}cache:item:${id}`)
    expect(ttl).toBeGreaterThan(50)
    expect(ttl).toBeLessThanOrEqual(60)
    expect(await space.redis.smembers(`${space.prefix}cache-tags:item:${id}`)).toEqual([
      `item:${id}`,
    ])
  })

  it('a write invalidates what showed it: the next read is fresh', async () => {
    const id = newItem()
    await getItem(app, id)
    expect((await putItem(app, id, 'second')).status).toBe(200)
    expect(await (await getItem(app, id)).json()).toEqual({ id, name: 'second' })
    expect(await space.redis.exists(`${space.prefix}cache:item:${id}`)).toBe(0)
  })

  it('an entry expires with its TTL', async () => {
    const id = newItem()
    const before = source.loads
    await getItem(app, id, '?ttl=1')
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    await getItem(app, id, '?ttl=1')
    expect(source.loads - before).toBe(2)
  })

  it('a hundred concurrent misses of one key load once (single-flight)', async () => {
    const id = newItem()
    const before = source.loads
    const bodies = await Promise.all(
      Array.from({ length: 100 }, () => getItem(app, id).then((r) => r.json())),
    )
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1)
    expect(source.loads - before).toBe(1)
  })

  it('a not-found is not cached', async () => {
    const id = freshId()
    expect((await getItem(app, id)).status).toBe(404)
    source.items.set(id, 'late')
    expect((await getItem(app, id)).status).toBe(200)
  })

  it('a read that loaded before a write cannot store its stale copy after the write', async () => {
    const id = newItem('old')
    let release = () => {}
    source.hold = new Promise((resolve) => {
      release = resolve
    })
    const slowRead = getItem(app, id) // loads 'old' and waits
    await new Promise((resolve) => setTimeout(resolve, 50))
    source.hold = undefined
    await putItem(app, id, 'new') // commits and invalidates while the read is in flight
    release()
    expect(await (await slowRead).json()).toEqual({ id, name: 'old' }) // what it saw
    expect(await (await getItem(app, id)).json()).toEqual({ id, name: 'new' }) // not cached stale
  })

  it('counts hits and misses in process and adds them to <prefix>cache-stats', async () => {
    const other = await startApp({ modules: [redis, cache, items], env: space.env })
    const id = newItem()
    const before = await space.redis.hgetall(`${space.prefix}cache-stats`)
    await getItem(other, id) // a miss
    await getItem(other, id) // a hit
    await getItem(other, id) // a hit
    expect(await space.redis.hgetall(`${space.prefix}cache-stats`)).toEqual(before) // nothing yet
    await other.close() // flushes
    const after = await space.redis.hgetall(`${space.prefix}cache-stats`)
    expect(Number(after.hits) - Number(before.hits ?? 0)).toBe(2)
    expect(Number(after.misses) - Number(before.misses ?? 0)).toBe(1)
  })
})

describe('Redis unreachable', () => {
  it('reads go to the source, never an error; caching resumes when Redis is back', async () => {
    const proxy = await TcpProxy.start(space.env.REDIS_URL)
    const app = await startApp({
      modules: [redis, cache, items],
      env: { ...space.env, REDIS_URL: proxy.url(space.env.REDIS_URL) },
      captureLogs: true,
    })
    try {
      const id = newItem()
      await proxy.cut()
      const before = source.loads
      for (let i = 0; i < 5; i++) {
        const res = await getItem(app, id)
        expect(res.status).toBe(200)
        expect(await res.json()).toEqual({ id, name: 'first' })
      }
      expect(source.loads - before).toBe(5)
      expect((await putItem(app, id, 'changed')).status).toBe(200) // the write still succeeds
      expect(app.logs().filter((l) => String(l.msg).startsWith('cache unreachable'))).toHaveLength(
        1,
      )

      await proxy.restore()
      for (let i = 0; i < 100 && (await fetch(`${app.url}/health/ready`)).status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await getItem(app, id)
      const loads = source.loads
      await getItem(app, id)
      expect(source.loads).toBe(loads) // a hit again
    } finally {
      await app.close()
      await proxy.close()
    }
  })
})

describe('CACHE_ENABLED=false', () => {
  it('reads every time from the source', async () => {
    const app = await startApp({
      modules: [redis, cache, items],
      env: { ...space.env, CACHE_ENABLED: 'false' },
    })
    try {
      const id = newItem()
      const before = source.loads
      await getItem(app, id)
      await getItem(app, id)
      expect(source.loads - before).toBe(2)
    } finally {
      await app.close()
    }
  })
})

describe('HTTP caching', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ modules: [redis, cache, items], env: space.env })
  })
  afterAll(() => app.close())

  it('an ETag on every GET, and 304 with no body for a matching If-None-Match', async () => {
    const id = newItem()
    const first = await getItem(app, id)
    const etag = first.headers.get('etag')
    expect(etag).toBeTruthy()
    // fetch adds `Cache-Control: no-cache` to a conditional request unless told otherwise, and a
    // server must not answer that with a 304.
    const conditional = { 'if-none-match': etag as string, 'cache-control': 'max-age=0' }
    const again = await fetch(`${app.url}/api/items/${id}`, { headers: conditional })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    await putItem(app, id, 'changed')
    const changed = await fetch(`${app.url}/api/items/${id}`, { headers: conditional })
    expect(changed.status).toBe(200)
  })

  it('public answers revalidate; answers to credentials are private; all vary by Authorization', async () => {
    const anonymous = await fetch(`${app.url}/api/me`)
    expect(anonymous.headers.get('cache-control')).toBe('public, no-cache')
    expect(anonymous.headers.get('vary')).toContain('Authorization')
    const signedIn = await fetch(`${app.url}/api/me`, { headers: { authorization: 'Bearer a' } })
    expect(signedIn.headers.get('cache-control')).toBe('private, no-cache')
    expect(signedIn.headers.get('vary')).toContain('Authorization')
  })

  it("one caller's ETag never yields another caller's data", async () => {
    const alice = await fetch(`${app.url}/api/me`, { headers: { authorization: 'Bearer alice' } })
    const etag = alice.headers.get('etag') as string
    const bob = await fetch(`${app.url}/api/me`, {
      headers: { authorization: 'Bearer bob', 'if-none-match': etag, 'cache-control': 'max-age=0' },
    })
    expect(bob.status).toBe(200)
    expect(await bob.json()).toEqual({ caller: 'Bearer bob' })
  })

  it('writes are not touched', async () => {
    const res = await putItem(app, newItem(), 'x')
    expect(res.headers.get('cache-control')).toBeNull()
  })
})
