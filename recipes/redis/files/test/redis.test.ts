import { Router } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigError, loadConfig } from '../src/config.js'
import type { ReadinessReport } from '../src/health/readiness.js'
import { defineModule, requireService } from '../src/module.js'
import { redis } from '../src/redis/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { useRedisPrefix } from './support/redis.js'
import { TcpProxy } from './support/tcp-proxy.js'

const space = useRedisPrefix()

/** A route that needs Redis for every request (an INCR), and never handles its failure. */
const counter = defineModule({
  name: 'counter',
  env: z.object({}),
  init({ services }) {
    const connections = requireService(services, 'redis', 'counter')
    const router = Router()
    router.post('/:name', async (req, res) => {
      res.json({
        count: await connections.client.incr(connections.key('counter', req.params.name)),
      })
    })
    return { routes: [{ path: '/counter', router }] }
  },
})

const ready = async (app: TestApp) => {
  const res = await fetch(`${app.url}/health/ready`)
  return { status: res.status, report: await json<ReadinessReport>(res) }
}

describe('the redis module', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({ modules: [redis, counter], env: space.env })
  })
  afterAll(() => app.close())

  it('is ready, and every key the service writes is under the prefix', async () => {
    expect((await ready(app)).report.checks.redis?.status).toBe('up')
    const res = await fetch(`${app.url}/counter/first`, { method: 'POST' })
    expect(await res.json()).toEqual({ count: 1 })
    expect(await space.redis.get(`${space.prefix}counter:first`)).toBe('1')
  })

  it('gives workers and subscribers connections of their own that wait for Redis', () => {
    const connections = app.service('redis')
    const worker = connections.connect('worker')
    expect(worker).not.toBe(connections.client)
    expect(worker.options.maxRetriesPerRequest).toBeNull()
    // Request paths must fail fast instead.
    expect(connections.client.options.enableOfflineQueue).toBe(false)
  })
})

describe('a Redis outage', () => {
  let proxy: TcpProxy
  let app: TestApp
  beforeAll(async () => {
    proxy = await TcpProxy.start(space.env.REDIS_URL)
    app = await startApp({
      modules: [redis, counter],
      env: { ...space.env, REDIS_URL: proxy.url(space.env.REDIS_URL) },
    })
  })
  afterAll(async () => {
    await app.close()
    await proxy.close()
  })

  it('fails requests fast with a 503, turns readiness 503, and recovers without a restart', async () => {
    expect((await ready(app)).status).toBe(200)
    await proxy.cut()

    const started = performance.now()
    const res = await fetch(`${app.url}/counter/outage`, { method: 'POST' })
    expect(performance.now() - started).toBeLessThan(1_500)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBeTruthy()
    expect((await json<ErrorBody>(res)).error.code).toBe('SERVICE_UNAVAILABLE')
    const down = await ready(app)
    expect(down.status).toBe(503)
    expect(down.report.checks.redis?.status).toBe('down')
    expect((await fetch(`${app.url}/health/live`)).status).toBe(200)

    await proxy.restore()
    for (let i = 0; i < 50 && (await ready(app)).status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect((await ready(app)).status).toBe(200)
    expect((await fetch(`${app.url}/counter/outage`, { method: 'POST' })).status).toBe(200)
  })

  it('closes every connection it opened on stop', async () => {
    const other = await startApp({ modules: [redis], env: space.env })
    const connections = other.service('redis')
    const subscriber = connections.connect('subscriber')
    await other.close()
    expect(connections.client.status).toBe('end')
    expect(subscriber.status).toBe('end')
  })
})

describe('configuration', () => {
  it.each([
    [{}, 'REDIS_URL'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [
      { REDIS_URL: 'redis://127.0.0.1', REDIS_COMMAND_TIMEOUT_MS: 'soon' },
      'REDIS_COMMAND_TIMEOUT_MS',
    ],
  ])('%j is refused naming %s', (env, variable) => {
    expect(() => loadConfig(env, [redis])).toThrow(ConfigError)
    expect(() => loadConfig(env, [redis])).toThrow(new RegExp(variable))
  })
})
