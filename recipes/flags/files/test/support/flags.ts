import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll } from 'vitest'
import { loadConventions } from '../../src/conventions.js'

export interface FlagSettings {
  enabled?: boolean
  percentage?: number
  allow?: string[]
  deny?: string[]
}

export interface FlagWriter {
  /**
   * Creates or changes a flag as `backendkit flags set` does: the row (in PostgreSQL), then an
   * announcement on the flags channel, unless `announce` is false (a lost message).
   */
  set(name: string, settings: FlagSettings, options?: { announce?: boolean }): Promise<void>
  remove(name: string): Promise<void>
}

/**
 * Changes flags in the database at `databaseUrl` the way an operator does, for tests that watch
 * running instances pick the changes up. Its connections close after the file's tests.
 */
export function flagWriter(databaseUrl: string, redisUrl: string): FlagWriter {
  const { table, channel } = loadConventions().flags
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 })
  const redis = new Redis(redisUrl, { lazyConnect: true })
  afterAll(async () => {
    await pool.end()
    redis.disconnect()
  })
  const quoted = table
    .split('.')
    .map((part) => pg.escapeIdentifier(part))
    .join('.')
  const announce = (name: string) => redis.publish(channel, JSON.stringify({ flag: name }))
  return {
    async set(name, settings, options = {}) {
      await pool.query(
        `insert into ${quoted} (name, enabled, percentage, allow_list, deny_list, updated_by)
         values ($1, coalesce($2::boolean, false), coalesce($3::smallint, 100),
           coalesce($4::text[], '{}'), coalesce($5::text[], '{}'), 'test')
         on conflict (name) do update set
           enabled = coalesce($2::boolean, ${quoted}.enabled),
           percentage = coalesce($3::smallint, ${quoted}.percentage),
           allow_list = coalesce($4::text[], ${quoted}.allow_list),
           deny_list = coalesce($5::text[], ${quoted}.deny_list),
           updated_at = now()`,
        [
          name,
          settings.enabled ?? null,
          settings.percentage ?? null,
          settings.allow ?? null,
          settings.deny ?? null,
        ],
      )
      if (options.announce !== false) await announce(name)
    },
    async remove(name) {
      await pool.query(`delete from ${quoted} where name = $1`, [name])
      await announce(name)
    },
  }
}

/** Polls `check` until it holds; resolves with how long that took, or rejects after `timeoutMs`. */
export async function timeUntil(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const started = performance.now()
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) {
      throw new Error(`not true after ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return performance.now() - started
}
