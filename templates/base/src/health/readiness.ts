import type { Logger } from '../lib/logger.js'
import type { ReadinessCheck } from '../module.js'

/**
 * What /health/ready shows of a check. It is unauthenticated, so never the error itself (it can
 * name internal hosts and ports): that goes to the log.
 */
export interface CheckResult {
  status: 'up' | 'down'
  latencyMs: number
}

export interface ReadinessReport {
  status: 'ok' | 'unavailable' | 'shutting-down'
  checks: Record<string, CheckResult>
}

function withTimeout(check: ReadinessCheck, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer))
}

/** The dependencies /health/ready checks, each with its own time limit, all in parallel. */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>()
  /** Checks that failed last time: a failure is logged when it starts, not on every probe. */
  private readonly failing = new Set<string>()
  /** Set when shutdown begins: the load balancer must stop sending traffic first. */
  shuttingDown = false

  constructor(
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  add(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is registered twice`)
    this.checks.set(name, check)
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
        const started = performance.now()
        const latency = () => Math.round(performance.now() - started)
        try {
          await withTimeout(check, this.timeoutMs)
          if (this.failing.delete(name)) this.logger.info({ check: name }, 'readiness check up')
          return [name, { status: 'up', latencyMs: latency() }]
        } catch (error) {
          if (!this.failing.has(name)) {
            this.failing.add(name)
            this.logger.warn({ check: name, err: error }, 'readiness check down')
          }
          return [name, { status: 'down', latencyMs: latency() }]
        }
      }),
    )
    const checks = Object.fromEntries(entries)
    if (this.shuttingDown) return { status: 'shutting-down', checks }
    const up = entries.every(([, result]) => result.status === 'up')
    return { status: up ? 'ok' : 'unavailable', checks }
  }
}
