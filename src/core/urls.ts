import { usageError } from './errors.js'
import { redact, registerUrlSecrets } from './redact.js'

export interface ServiceKind {
  /** e.g. "PostgreSQL" */
  label: string
  /** The environment variable and flag that carry the URL. */
  envVar: string
  flag: string
  protocols: readonly string[]
  defaultPort: number
}

export const postgresService: ServiceKind = {
  label: 'PostgreSQL',
  envVar: 'DATABASE_URL',
  flag: '--database-url',
  protocols: ['postgres:', 'postgresql:'],
  defaultPort: 5432,
}

export const redisService: ServiceKind = {
  label: 'Redis',
  envVar: 'REDIS_URL',
  flag: '--redis-url',
  protocols: ['redis:', 'rediss:'],
  defaultPort: 6379,
}

export interface ConnectionUrl {
  url: URL
  raw: string
  /** host:port, for messages (never the password). */
  address: string
  /** The whole URL with the password replaced by `***`. */
  display: string
}

/** A malformed URL is a usage error (exit 2); its password is registered as a secret first. */
export function parseConnectionUrl(raw: string, kind: ServiceKind): ConnectionUrl {
  registerUrlSecrets(raw)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw usageError(
      `Malformed ${kind.envVar}: ${redact(raw)}`,
      `Use the form ${kind.protocols[0]}//user:password@host:${kind.defaultPort}${kind === postgresService ? '/database' : ''} (via ${kind.flag} or ${kind.envVar}).`,
      'E_BAD_URL',
    )
  }
  if (!kind.protocols.includes(url.protocol) || !url.hostname) {
    throw usageError(
      `${kind.envVar} is not a ${kind.label} URL: ${redact(raw)}`,
      `Use ${kind.protocols.map((p) => `${p}//`).join(' or ')} with a host (via ${kind.flag} or ${kind.envVar}).`,
      'E_BAD_URL',
    )
  }
  registerUrlSecrets(url.href)
  const port = url.port || String(kind.defaultPort)
  return { url, raw, address: `${url.hostname}:${port}`, display: redact(url.href) }
}
