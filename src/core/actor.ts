import { spawnSync } from 'node:child_process'
import { userInfo } from 'node:os'
import { usageError } from './errors.js'
import type { Io } from './io.js'

export interface Actor {
  /** Who is making a change, as recorded in a flag's history or the maintenance state. */
  name: string
  source: 'flag' | 'env' | 'git' | 'os'
}

const MAX_LENGTH = 200

/** `git config <key>` in `cwd` with the command's environment, or undefined. */
function gitConfig(io: Pick<Io, 'env'>, cwd: string, key: string): string | undefined {
  const result = spawnSync('git', ['config', '--get', key], {
    cwd,
    env: io.env as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 2_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const value = result.status === 0 ? result.stdout.trim() : ''
  return value || undefined
}

/**
 * Who a change is recorded as: `--actor`, else `BACKENDKIT_ACTOR` (the environment, then the env
 * file), else the git user of the project (`Name <email>`), else the OS user. A CI job sets
 * BACKENDKIT_ACTOR (e.g. to the pipeline and the person who started it).
 */
export function resolveActor(
  ctx: { io: Pick<Io, 'env'>; setting(name: string): string | undefined },
  explicit: string | undefined,
  cwd: string,
): Actor {
  const given = explicit ?? ctx.setting('BACKENDKIT_ACTOR')
  if (given !== undefined) {
    const name = given.trim()
    if (!name || name.length > MAX_LENGTH) {
      throw usageError(
        `The actor must be 1 to ${MAX_LENGTH} characters (got ${JSON.stringify(given)}).`,
        'Pass --actor "<your name>" or set BACKENDKIT_ACTOR.',
      )
    }
    return { name, source: explicit === undefined ? 'env' : 'flag' }
  }
  const userName = gitConfig(ctx.io, cwd, 'user.name')
  const email = gitConfig(ctx.io, cwd, 'user.email')
  if (userName && email) return { name: `${userName} <${email}>`, source: 'git' }
  if (userName || email) return { name: (userName ?? email) as string, source: 'git' }
  let osUser: string | undefined
  try {
    osUser = userInfo().username
  } catch {
    osUser = ctx.io.env.USER ?? ctx.io.env.USERNAME
  }
  return { name: osUser || 'unknown', source: 'os' }
}
