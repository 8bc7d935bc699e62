import { ErrorCode, type EventHandler, OpenFeature, ProviderEvents } from '@openfeature/server-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { database } from '../src/db/module.js'
import { flags } from '../src/flags/module.js'
import { redis } from '../src/redis/module.js'
import { startApp, type TestApp } from './support/app.js'
import { useTestDatabase } from './support/database.js'
import { flagWriter, timeUntil } from './support/flags.js'
import { useRedisPrefix } from './support/redis.js'

// OpenFeature's API is one global per process: this file starts one app, which registers its
// provider, and code written against the SDK alone asks it.

const testDb = useTestDatabase()
const space = useRedisPrefix()
const writer = flagWriter(testDb.url, space.env.REDIS_URL)

describe('the OpenFeature provider', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startApp({
      modules: [database, redis, flags],
      env: { ...space.env, DATABASE_URL: testDb.url },
    })
  })
  afterAll(() => app.close())

  it('answers the SDK as the service does, with the user as targeting key', async () => {
    await writer.set('of-rollout', { enabled: true, percentage: 40, deny: ['u-3'] })
    await timeUntil(async () => app.service('flags').names().includes('of-rollout'))
    const client = OpenFeature.getClient()
    for (let i = 0; i < 50; i++) {
      const user = `u-${i}`
      expect(await client.getBooleanValue('of-rollout', !i, { targetingKey: user })).toBe(
        app.service('flags').isEnabled('of-rollout', user),
      )
    }
    const denied = await client.getBooleanDetails('of-rollout', true, { targetingKey: 'u-3' })
    expect(denied).toMatchObject({ value: false, reason: 'TARGETING_MATCH', variant: 'off' })
    expect(denied.flagMetadata).toEqual({ reason: 'deny' })
  })

  it('an unknown flag gives the default with FLAG_NOT_FOUND; other types a type mismatch', async () => {
    const client = OpenFeature.getClient()
    const unknown = await client.getBooleanDetails('of-nobody-made-this', true, {
      targetingKey: 'u',
    })
    expect(unknown).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND })
    const text = await client.getStringDetails('of-rollout', 'fallback', { targetingKey: 'u' })
    expect(text).toMatchObject({ value: 'fallback', errorCode: ErrorCode.TYPE_MISMATCH })
  })

  it('tells handlers which flags changed', async () => {
    const changed: string[][] = []
    const handler: EventHandler = (details) => {
      changed.push((details?.flagsChanged as string[] | undefined) ?? [])
    }
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, handler)
    try {
      await writer.set('of-watched', { enabled: true })
      await timeUntil(async () => changed.some((names) => names.includes('of-watched')))
    } finally {
      OpenFeature.removeHandler(ProviderEvents.ConfigurationChanged, handler)
    }
  })
})
