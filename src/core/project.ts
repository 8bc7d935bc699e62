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

export interface Project {
  /** The project root: --cwd, else the nearest ancestor holding backendkit.json, else the cwd. */
  root: string
  /** Parsed backendkit.json, or undefined when the root has none (a non-backendkit service). */
  config: ProjectConfig | undefined
  conventions: Conventions
  /** Variables from the env file (not the process environment). */
  envFile: Record<string, string>
  envFilePath: string | undefined
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
  const parsed = projectConfigSchema.safeParse(raw)
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

export function loadProject(options: {
  cwd: string
  explicitCwd?: string | undefined
  envFile?: string | undefined
}): Project {
  let root: string
  if (options.explicitCwd) {
    root = path.resolve(options.cwd, options.explicitCwd)
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw usageError(`--cwd is not a directory: ${root}`, 'Pass the project root to --cwd.')
    }
  } else {
    root = findProjectRoot(options.cwd) ?? path.resolve(options.cwd)
  }
  const config = readProjectConfig(root)
  const envFilePath = options.envFile
    ? path.resolve(options.cwd, options.envFile)
    : path.join(root, '.env')
  const envFile = readEnvFile(envFilePath, Boolean(options.envFile))
  return {
    root,
    config,
    conventions: resolveConventions(config),
    envFile,
    envFilePath: existsSync(envFilePath) ? envFilePath : undefined,
  }
}
