import { readFileSync } from 'node:fs'

/**
 * backendkit.json, at the project root: the names this service shares with the `backendkit`
 * CLI, so `backendkit ratelimit reset` or `backendkit flags set` find what the service wrote.
 * Both read the same file; a variable may override a prefix per environment (REDIS_KEY_PREFIX).
 */
export interface Conventions {
  name: string
  redis: { keyPrefix: string }
  queues: { prefix: string }
  flags: { table: string; channel: string }
}

interface ConventionsFile {
  name?: string
  redis?: { keyPrefix?: string }
  queues?: { prefix?: string }
  flags?: { table?: string; channel?: string }
}

/** From src/ in development and dist/ in production alike, the file is one folder up. */
const defaultFile = new URL('../backendkit.json', import.meta.url)

export function loadConventions(file: URL | string = defaultFile): Conventions {
  let raw: ConventionsFile
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as ConventionsFile
  } catch (error) {
    throw new Error(
      `cannot read backendkit.json (${String(file)}): it names the Redis key prefix and other conventions this service shares with the backendkit CLI; ship it with the service`,
      { cause: error },
    )
  }
  const name = raw.name ?? 'app'
  return {
    name,
    redis: { keyPrefix: raw.redis?.keyPrefix ?? `${name}:` },
    queues: { prefix: raw.queues?.prefix ?? `${name}:bull` },
    flags: {
      table: raw.flags?.table ?? 'feature_flags',
      channel: raw.flags?.channel ?? `${name}:flags`,
    },
  }
}
