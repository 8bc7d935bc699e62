import type { ReadinessCheck } from '../module.js'

export interface CheckResult {
  status: 'up' | 'down'
  latencyMs: number
  error?: string
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
  /** Set when shutdown begins: the load balancer must stop sending traffic first. */
  shuttingDown = false

  constructor(private readonly timeoutMs: number) {}

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
          return [name, { status: 'up', latencyMs: latency() }]
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          return [name, { status: 'down', latencyMs: latency(), error: message }]
        }
      }),
    )
    const checks = Object.fromEntries(entries)
    if (this.shuttingDown) return { status: 'shutting-down', checks }
    const up = entries.every(([, result]) => result.status === 'up')
    return { status: up ? 'ok' : 'unavailable', checks }
  }
}
