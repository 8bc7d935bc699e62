import { createRequire } from 'node:module'
import type * as zod from 'zod'

/**
 * zod, loaded when backendkit.json is first validated: an operate command given its prefixes and
 * URLs never reads the file, and zod is the largest thing a command would load for nothing
 * (bench/suites/queue-list.js).
 */
let zodModule: typeof zod | undefined
const loadZod = () => {
  zodModule ??= createRequire(import.meta.url)('zod') as typeof zod
  return zodModule
}

/**
 * `backendkit.json`: the conventions a generated service shares with the operator. It never holds
 * a connection URL (those come from the environment).
 */
function buildSchema(z: typeof zod.z) {
  return z
    .object({
      $schema: z.string().optional(),
      name: z.string().min(1, 'must not be empty'),
      recipes: z.array(z.string().min(1)).default([]),
      redis: z.strictObject({ keyPrefix: z.string().optional() }).optional(),
      migrations: z
        .strictObject({
          dir: z.string().min(1).optional(),
          template: z.string().min(1).optional(),
        })
        .optional(),
      queues: z.strictObject({ prefix: z.string().min(1).optional() }).optional(),
      flags: z
        .strictObject({
          table: z.string().min(1).optional(),
          channel: z.string().min(1).optional(),
        })
        .optional(),
      health: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }).optional(),
          live: z.string().startsWith('/').optional(),
          ready: z.string().startsWith('/').optional(),
        })
        .optional(),
    })
    .strict()
}

type ProjectConfigSchema = ReturnType<typeof buildSchema>
let schema: ProjectConfigSchema | undefined

export function projectConfigSchema(): ProjectConfigSchema {
  schema ??= buildSchema(loadZod().z)
  return schema
}

/** The JSON Schema of backendkit.json (dist/backendkit.schema.json, written by the build). */
export function projectConfigJsonSchema(): Record<string, unknown> {
  return loadZod().z.toJSONSchema(projectConfigSchema(), { io: 'input' }) as Record<string, unknown>
}

export type ProjectConfigInput = zod.input<ProjectConfigSchema>
export type ProjectConfig = zod.output<ProjectConfigSchema>

/** The conventions with every default filled in, as the operate commands use them. */
export interface Conventions {
  name: string | undefined
  keyPrefix: string
  migrationsDir: string
  migrationTemplate: string | undefined
  queuePrefix: string
  flagsTable: string
  flagsChannel: string
  healthUrl: string
  livePath: string
  readyPath: string
}

export function resolveConventions(config: ProjectConfig | undefined): Conventions {
  const name = config?.name
  const base = name ? `${name}:` : ''
  return {
    name,
    keyPrefix: config?.redis?.keyPrefix ?? base,
    migrationsDir: config?.migrations?.dir ?? 'src/db/migrations',
    migrationTemplate: config?.migrations?.template,
    queuePrefix: config?.queues?.prefix ?? `${base}bull`,
    flagsTable: config?.flags?.table ?? 'feature_flags',
    flagsChannel: config?.flags?.channel ?? `${base}flags`,
    healthUrl: config?.health?.url ?? 'http://127.0.0.1:3000',
    livePath: config?.health?.live ?? '/health/live',
    readyPath: config?.health?.ready ?? '/health/ready',
  }
}

/** `redis.keyPrefix` → the first zod issue as "field: problem". */
export function describeConfigIssue(error: zod.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid'
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${issue.path.join('.')}.` : ''
    return `unknown field "${where}${issue.keys[0]}"`
  }
  const field = issue.path.join('.') || '(root)'
  return `field "${field}": ${issue.message}`
}
