import type { Command } from 'commander'
import type { GlobalOptions } from '../commands/shared-options.js'
import { usageError } from './errors.js'
import type { Io } from './io.js'
import { colorStyle, plainStyle, Reporter, type Style, useColor } from './output.js'
import { openProject, type Project } from './project.js'
import {
  type ConnectionUrl,
  parseConnectionUrl,
  postgresService,
  redisService,
  type ServiceKind,
} from './urls.js'

export type { GlobalOptions }

export interface CommandContext {
  io: Io
  options: GlobalOptions
  /** Read on first use: commands that never look at backendkit.json run even if it is broken. */
  project: Project
  reporter: Reporter
  /** Styling for stdout (the result); the reporter styles stderr on its own. */
  style: Style
  /** Prompts are allowed: a TTY on stdin, not CI, no --yes, no --json. */
  interactive: boolean
  /** A setting by precedence: process environment, then the env file. */
  setting(name: string): string | undefined
  databaseUrl(): ConnectionUrl
  redisUrl(): ConnectionUrl
  /**
   * The Redis key prefix every Redis command works under: --prefix, else REDIS_KEY_PREFIX (the
   * environment, then the env file), else redis.keyPrefix of backendkit.json, else "<name>:".
   */
  keyPrefix(): string
}

export function isInteractive(io: Io, options: Pick<GlobalOptions, 'yes' | 'json'>): boolean {
  const ci = io.env.CI
  return Boolean(
    io.stdin.isTTY && !options.yes && !options.json && !(ci && ci !== '0' && ci !== 'false'),
  )
}

export function createContext(io: Io, command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>()
  const project = openProject({ cwd: io.cwd, explicitCwd: options.cwd, envFile: options.envFile })
  const reporter = new Reporter(io, useColor(io.stderr, io.env, options.color))
  const setting = (name: string) => {
    const value = io.env[name] ?? project.envFile[name]
    return value === '' ? undefined : value
  }
  const connectionUrl = (kind: ServiceKind, flagValue: string | undefined) => {
    const raw = flagValue ?? setting(kind.envVar)
    if (!raw) {
      throw usageError(
        `No ${kind.label} URL: ${kind.envVar} is not set.`,
        `Pass ${kind.flag} <url>, set ${kind.envVar}, or add it to the project's .env file.`,
        'E_NO_URL',
      )
    }
    return parseConnectionUrl(raw, kind)
  }
  return {
    io,
    options,
    project,
    reporter,
    style: useColor(io.stdout, io.env, options.color) ? colorStyle : plainStyle,
    interactive: isInteractive(io, options),
    setting,
    databaseUrl: () => connectionUrl(postgresService, options.databaseUrl),
    redisUrl: () => connectionUrl(redisService, options.redisUrl),
    keyPrefix: () => options.prefix ?? setting('REDIS_KEY_PREFIX') ?? project.conventions.keyPrefix,
  }
}
