import type { CommandContext } from '../../core/context.js'
import { BackendkitError, usageError } from '../../core/errors.js'
import { type CommandResult, type Style, table } from '../../core/output.js'
import { type Conventions, resolveConventions } from '../../core/project-config.js'
import { redact } from '../../core/redact.js'
import type { OptionValues } from '../options.js'
import type { healthOptions } from './index.js'

type HealthOptions = OptionValues<typeof healthOptions>

export interface Probe {
  url: string
  /** HTTP status, or null when no response came (refused, timed out). */
  status: number | null
  ok: boolean
  latencyMs: number
  error: string | null
}

export interface ReadinessCheck {
  name: string
  status: string
  latencyMs: number | null
  error: string | null
}

export interface HealthData {
  url: string
  ready: boolean
  live: Probe
  readiness: Probe & { checks: ReadinessCheck[] }
  attempts: number
  waitedMs: number
}

/** Each request gets at most this long, so one hung probe cannot eat a whole --wait budget. */
const REQUEST_TIMEOUT_MS = 5_000
const MIN_ATTEMPT_MS = 500

/**
 * The probe paths of backendkit.json. Given a URL, health needs nothing else from the project, so
 * a broken backendkit.json is a warning there (the default paths are probed), not a failure.
 */
function probePaths(
  ctx: Pick<CommandContext, 'project' | 'reporter'>,
  explicitUrl: boolean,
): Pick<Conventions, 'livePath' | 'readyPath'> {
  try {
    return ctx.project.conventions
  } catch (error) {
    if (!explicitUrl || !(error instanceof BackendkitError) || error.code !== 'E_CONFIG')
      throw error
    ctx.reporter.info(`warning: ${error.message}; probing the default paths.`)
    return resolveConventions(undefined)
  }
}

function baseUrl(ctx: CommandContext, raw: string | undefined): URL {
  const value = raw ?? ctx.project.conventions.healthUrl
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw usageError(
      `Malformed health URL: ${redact(value)}`,
      'Pass a URL such as http://127.0.0.1:3000.',
      'E_BAD_URL',
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(
      `Not an HTTP URL: ${redact(value)}`,
      'Pass an http:// or https:// URL.',
      'E_BAD_URL',
    )
  }
  return url
}

async function probe(url: URL, timeoutMs: number): Promise<Probe & { body: unknown }> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'manual',
    })
    const text = await response.text()
    let body: unknown = null
    try {
      body = JSON.parse(text)
    } catch {
      // a non-JSON body is fine; only the status counts then
    }
    return {
      url: url.href,
      status: response.status,
      ok: response.ok,
      latencyMs: elapsed(),
      error: null,
      body,
    }
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `timed out after ${timeoutMs / 1000} s`
        : cause?.code === 'ECONNREFUSED'
          ? 'connection refused'
          : (cause?.code ?? cause?.message ?? (error as Error).message)
    return {
      url: url.href,
      status: null,
      ok: false,
      latencyMs: elapsed(),
      error: reason,
      body: null,
    }
  }
}

/** Reads `{checks: {name: {status, latencyMs, error?}}}` (the generated service's shape) leniently. */
function readChecks(body: unknown): ReadinessCheck[] {
  const checks = (body as { checks?: unknown } | null)?.checks
  if (!checks || typeof checks !== 'object') return []
  return Object.entries(checks as Record<string, Record<string, unknown>>).map(([name, check]) => ({
    name,
    status: typeof check?.status === 'string' ? check.status : 'unknown',
    latencyMs: typeof check?.latencyMs === 'number' ? check.latencyMs : null,
    error: typeof check?.error === 'string' ? check.error : null,
  }))
}

function render(data: HealthData, style: Style): string {
  const describe = (p: Probe) =>
    p.status === null
      ? style.red(p.error ?? 'no response')
      : p.ok
        ? style.green(String(p.status))
        : style.red(String(p.status))
  const rows = [
    ['live', describe(data.live), `${data.live.latencyMs} ms`, data.live.url],
    ['ready', describe(data.readiness), `${data.readiness.latencyMs} ms`, data.readiness.url],
  ]
  const lines = [table(['PROBE', 'STATUS', 'TIME', 'URL'], rows, style)]
  if (data.readiness.checks.length) {
    const checkRows = data.readiness.checks.map((c) => [
      c.name,
      c.status === 'up' || c.status === 'ok' ? style.green(c.status) : style.red(c.status),
      c.latencyMs === null ? '' : `${c.latencyMs} ms`,
      c.error ?? '',
    ])
    lines.push('', table(['CHECK', 'STATUS', 'TIME', 'ERROR'], checkRows, style))
  }
  const waited =
    data.attempts > 1
      ? ` after ${data.attempts} attempts (${(data.waitedMs / 1000).toFixed(1)} s)`
      : ''
  lines.push('', data.ready ? style.green(`Ready${waited}.`) : style.red(`Not ready${waited}.`))
  return lines.join('\n')
}

export default async function health(
  ctx: CommandContext,
  rawUrl: string | undefined,
  options: HealthOptions,
): Promise<CommandResult<HealthData>> {
  const base = baseUrl(ctx, rawUrl)
  const { livePath, readyPath } = probePaths(ctx, rawUrl !== undefined)
  const liveUrl = new URL(livePath, base)
  const readyUrl = new URL(readyPath, base)
  const started = performance.now()
  const deadline = started + (options.wait ? options.timeout : 0)
  let attempts = 0
  let data: HealthData
  for (;;) {
    attempts++
    // Within --wait each attempt fits the time left, but never under half a second, so the last
    // attempt is a real one.
    const timeout = options.wait
      ? Math.min(REQUEST_TIMEOUT_MS, Math.max(MIN_ATTEMPT_MS, deadline - performance.now()))
      : REQUEST_TIMEOUT_MS
    const [live, ready] = await Promise.all([probe(liveUrl, timeout), probe(readyUrl, timeout)])
    const { body, ...readiness } = ready
    const { body: _liveBody, ...liveProbe } = live
    data = {
      url: base.href,
      ready: live.ok && ready.ok,
      live: liveProbe,
      readiness: { ...readiness, checks: readChecks(body) },
      attempts,
      waitedMs: Math.round(performance.now() - started),
    }
    if (data.ready || !options.wait) break
    if (performance.now() + options.interval >= deadline) break
    if (attempts === 1) {
      ctx.reporter.info(
        `Waiting up to ${options.timeout / 1000} s for ${readyUrl.href} to be ready…`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval))
  }
  return { data, render: (style) => render(data, style), exitCode: data.ready ? 0 : 1 }
}
