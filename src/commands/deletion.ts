import { confirmDestructive } from '../core/confirm.js'
import type { CommandContext } from '../core/context.js'
import { type CommandResult, type Style, table } from '../core/output.js'
import type { DeleteReport } from '../redis/delete.js'

/** One thing the user asked to delete: a key, an identity, a glob, a tag, or everything. */
export interface DeletionTarget {
  target: string
  kind: 'key' | 'identity' | 'match' | 'tag' | 'all'
  /** Keys found for it (on a dry run: the keys that would go). */
  matched: number
  /** Keys removed; 0 on a dry run. */
  deleted: number
  /** The first keys found (full Redis names), to show what went. */
  redisKeys: string[]
  /** Why it stopped before the end, or null. */
  error: string | null
}

/** The `--json` shape of `ratelimit reset` and `cache invalidate`. */
export interface DeletionData {
  prefix: string
  dryRun: boolean
  matched: number
  deleted: number
  targets: DeletionTarget[]
}

export function targetFromReport(
  target: string,
  kind: DeletionTarget['kind'],
  report: DeleteReport,
): DeletionTarget {
  return {
    target,
    kind,
    matched: report.matched,
    deleted: report.deleted,
    redisKeys: report.sample,
    error:
      report.error && report.unconfirmed > 0
        ? `${report.error} (${plural(report.unconfirmed, 'more key')} sent without an answer may be gone too)`
        : report.error,
  }
}

const plural = (n: number, word: string) =>
  `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`

/**
 * Confirms before deleting. On a terminal the question says how many keys would go, so the
 * count (a scan) is taken only when someone will read it: with --yes, --dry-run or no terminal
 * (where confirmDestructive refuses at once) it is skipped.
 */
export async function confirmDeletion(
  ctx: Pick<CommandContext, 'options' | 'interactive' | 'io'>,
  dryRun: boolean,
  count: () => Promise<number>,
  describe: (count: number | undefined) => string,
): Promise<void> {
  if (dryRun || ctx.options.yes) return
  if (!ctx.interactive) return confirmDestructive(ctx, describe(undefined))
  const n = await count()
  // nothing to delete: nothing to ask; the result reports what matched nothing
  if (n > 0) await confirmDestructive(ctx, describe(n))
}

export function describeCount(n: number | undefined, word = 'key'): string {
  return n === undefined ? `every ${word}` : plural(n, word)
}

/**
 * The result of a deletion: exit 1 when any target matched nothing or stopped on an error
 * (after doing everything else), 0 otherwise.
 */
export function deletionResult(data: DeletionData, where: string): CommandResult<DeletionData> {
  const failed = data.targets.some((t) => t.matched === 0 || t.error)
  return { data, exitCode: failed ? 1 : 0, render: (style) => renderDeletion(data, where, style) }
}

function describeOutcome(t: DeletionTarget, dryRun: boolean, style: Style): string {
  if (t.error) return style.red(`failed after ${plural(t.deleted, 'key')}: ${t.error}`)
  if (t.matched === 0) return style.yellow('nothing matched')
  if (dryRun) return `${plural(t.matched, 'key')} would go`
  return `${plural(t.deleted, 'key')} deleted`
}

function renderDeletion(data: DeletionData, where: string, style: Style): string {
  const lines: string[] = []
  const rows = data.targets.map((t) => [t.target, t.kind, describeOutcome(t, data.dryRun, style)])
  lines.push(table(['TARGET', 'KIND', 'RESULT'], rows, style))
  if (data.dryRun) {
    const sample = data.targets.flatMap((t) => t.redisKeys)
    if (sample.length) {
      lines.push(
        '',
        style.dim('Keys that would go (first of each target):'),
        ...sample.map((k) => `  ${k}`),
      )
    }
    lines.push(
      '',
      style.yellow(
        `Dry run on ${where}: ${plural(data.matched, 'key')} would go; nothing was changed.`,
      ),
    )
  } else {
    lines.push(
      '',
      `Deleted ${plural(data.deleted, 'key')} under ${data.prefix || '(no prefix)'} on ${where}.`,
    )
  }
  return lines.join('\n')
}
