import { z } from 'zod'
import type { AppModule } from './module.js'

/** A comma-separated list in one variable, e.g. CORS_ORIGINS=https://a.example,https://b.example */
const list = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )

export const coreEnv = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** Origins allowed to call the API from a browser; empty = no cross-origin access. */
    CORS_ORIGINS: list.pipe(z.array(z.url({ protocol: /^https?$/ }))),
    /** Largest JSON body accepted, e.g. 100kb or 1mb. */
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'use a size such as 100kb or 1mb')
      .default('100kb'),
    /** Hops of reverse proxies to trust for the client IP (X-Forwarded-For); 0 = none. */
    TRUST_PROXY: z.coerce.number().int().min(0).default(0),
    /** How long shutdown may take, from the signal to the exit, before the process is forced out. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /**
     * How long the server keeps serving after SIGTERM while readiness answers 503, so that load
     * balancers stop sending before the port closes. Part of SHUTDOWN_TIMEOUT_MS. Default: 5000 in
     * production; 0 otherwise, where no load balancer waits on the server and a restart should be
     * immediate (tsx watch, tests). Empty means the default.
     */
    SHUTDOWN_DELAY_MS: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(0).optional(),
    ),
    /** How long each readiness check may take. */
    READINESS_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
    /**
     * Port of the worker process's /health/live and /health/ready. Default: 3001; none (0) under
     * NODE_ENV=test, where many workers start on one machine. Empty means the default.
     */
    WORKER_HEALTH_PORT: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().int().min(0).max(65_535).optional(),
    ),
  })
  .transform(({ SHUTDOWN_DELAY_MS, WORKER_HEALTH_PORT, ...env }, ctx) => {
    const delay = SHUTDOWN_DELAY_MS ?? (env.NODE_ENV === 'production' ? 5_000 : 0)
    if (delay >= env.SHUTDOWN_TIMEOUT_MS) {
      ctx.issues.push({
        code: 'custom',
        input: delay,
        path: ['SHUTDOWN_DELAY_MS'],
        message: `must be less than SHUTDOWN_TIMEOUT_MS (${env.SHUTDOWN_TIMEOUT_MS}), which includes it`,
      })
    }
    const workerHealthPort = WORKER_HEALTH_PORT ?? (env.NODE_ENV === 'test' ? 0 : 3001)
    return { ...env, SHUTDOWN_DELAY_MS: delay, WORKER_HEALTH_PORT: workerHealthPort }
  })

export type CoreConfig = z.infer<typeof coreEnv>

export interface AppConfig {
  core: CoreConfig
  /** Each module's parsed environment, by module name. */
  modules: Map<string, unknown>
}

/** Thrown at start when the environment is missing or malformed; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

function describe(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)'
    return `${variable}: ${issue.message}`
  })
}

/**
 * Parses the core variables and every module's own, and reports all problems at once, so a
 * deploy with three bad variables fails once, not three times.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  modules: readonly AppModule[],
): AppConfig {
  const problems: string[] = []
  const core = coreEnv.safeParse(env)
  if (!core.success) problems.push(...describe(core.error.issues))
  const parsed = new Map<string, unknown>()
  for (const module of modules) {
    const result = module.env.safeParse(env)
    if (result.success) parsed.set(module.name, result.data)
    else problems.push(...describe(result.error.issues))
  }
  if (problems.length > 0 || !core.success) throw new ConfigError([...new Set(problems)])
  return { core: core.data, modules: parsed }
}
