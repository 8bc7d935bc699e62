import { existsSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { usageError } from './errors.js'
import {
  type Conventions,
  describeConfigIssue,
  type ProjectConfig,
  projectConfigSchema,
  resolveConventions,
} from './project-config.js'

export const CONFIG_FILE = 'backendkit.json'

/**
 * The project the CLI runs in. Every part is read on first use, so a command that does not need
 * backendkit.json (`recipes`, `new`, `health <url>`, a Redis command given --redis-url and
 * --prefix) runs even when that file is broken, and one that does need it says what is wrong.
 */
export interface Project {
  /** The project root: --cwd, else the nearest ancestor holding backendkit.json, else the cwd. */
  readonly root: string
  /** Parsed backendkit.json, or undefined when the root has none (a non-backendkit service). */
  readonly config: ProjectConfig | undefined
  readonly conventions: Conventions
  /** Variables from the env file (not the process environment). */
  readonly envFile: Record<string, string>
  readonly envFilePath: string | undefined
}

export function findProjectRoot(start: string): string | undefined {
  let dir = path.resolve(start)
  for (;;) {
    if (existsSync(path.join(dir, CONFIG_FILE))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

export function readProjectConfig(root: string): ProjectConfig | undefined {
  const file = path.join(root, CONFIG_FILE)
  if (!existsSync(file)) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw usageError(
      `${CONFIG_FILE} is not valid JSON: ${(error as Error).message}`,
      `Fix ${file} (or remove it to run without project conventions).`,
      'E_CONFIG',
    )
  }
  const parsed = projectConfigSchema().safeParse(raw)
  if (!parsed.success) {
    throw usageError(
      `${CONFIG_FILE} is invalid: ${describeConfigIssue(parsed.error)}`,
      `Fix ${file}; its JSON Schema is referenced by its "$schema" field.`,
      'E_CONFIG',
    )
  }
  return parsed.data
}

export function readEnvFile(file: string, required: boolean): Record<string, string> {
  if (!existsSync(file)) {
    if (required) {
      throw usageError(`Env file not found: ${file}`, 'Pass an existing file to --env-file.')
    }
    return {}
  }
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
  } catch (error) {
    throw usageError(`Cannot read env file ${file}: ${(error as Error).message}`, 'Check the file.')
  }
}

/** Memoises a computation; a failure is not memoised, so it is thrown again on every use. */
function once<T>(compute: () => T): () => T {
  let done: { value: T } | undefined
  return () => {
    done ??= { value: compute() }
    return done.value
  }
}

export function openProject(options: {
  cwd: string
  explicitCwd?: string | undefined
  envFile?: string | undefined
}): Project {
  const root = once(() => {
    if (!options.explicitCwd) return findProjectRoot(options.cwd) ?? path.resolve(options.cwd)
    const dir = path.resolve(options.cwd, options.explicitCwd)
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw usageError(`--cwd is not a directory: ${dir}`, 'Pass the project root to --cwd.')
    }
    return dir
  })
  const config = once(() => readProjectConfig(root()))
  const conventions = once(() => resolveConventions(config()))
  const envFilePath = once(() =>
    options.envFile ? path.resolve(options.cwd, options.envFile) : path.join(root(), '.env'),
  )
  const envFile = once(() => readEnvFile(envFilePath(), Boolean(options.envFile)))
  return {
    get root() {
      return root()
    },
    get config() {
      return config()
    },
    get conventions() {
      return conventions()
    },
    get envFile() {
      return envFile()
    },
    get envFilePath() {
      return existsSync(envFilePath()) ? envFilePath() : undefined
    },
  }
}
