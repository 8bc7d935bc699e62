import { BackendkitError, usageError } from '../core/errors.js'
import type { AppliedMigration } from './engine.js'
import type { MigrationFile } from './files.js'

export interface UpSelection {
  step?: number | undefined
  to?: string | undefined
}

export interface DownSelection extends UpSelection {
  all?: boolean | undefined
}

function checkAppliedHaveFiles(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
) {
  const names = new Set(files.map((f) => f.name))
  const missing = applied.find((m) => !names.has(m.name))
  if (missing) {
    throw new BackendkitError(
      `Applied migration ${missing.name} has no file in the migrations folder`,
      {
        hint: 'Restore the file (or point --migrations at the right folder) before migrating.',
        code: 'E_MIGRATION_MISSING',
      },
    )
  }
}

/** The pending migrations to apply, in order. */
export function planUp(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
  selection: UpSelection,
): string[] {
  checkAppliedHaveFiles(files, applied)
  const done = new Set(applied.map((m) => m.name))
  const pending = files.filter((f) => !done.has(f.name)).map((f) => f.name)
  const lastApplied = applied
    .map((m) => m.name)
    .sort()
    .at(-1)
  const early = lastApplied ? pending.find((name) => name < lastApplied) : undefined
  if (early) {
    throw new BackendkitError(
      `Pending migration ${early} sorts before the applied ${lastApplied}`,
      {
        hint: 'New migrations must sort after every applied one: rename it with a newer timestamp (backendkit migrate make).',
        code: 'E_MIGRATION_ORDER',
      },
    )
  }
  if (selection.to !== undefined) {
    if (done.has(selection.to)) return []
    const index = pending.indexOf(selection.to)
    if (index === -1) {
      throw usageError(
        `No migration named ${selection.to}`,
        'Run `backendkit migrate status` to see the names.',
      )
    }
    return pending.slice(0, index + 1)
  }
  return selection.step === undefined ? pending : pending.slice(0, selection.step)
}

/**
 * The applied migrations to revert, newest first. By default the last batch: every migration
 * applied since the last `migrate up` began (or the last one, when no batch was ever recorded).
 */
export function planDown(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
  selection: DownSelection,
): string[] {
  checkAppliedHaveFiles(files, applied)
  const names = applied.map((m) => m.name)
  let count: number
  if (selection.all) {
    count = names.length
  } else if (selection.to !== undefined) {
    const index = names.indexOf(selection.to)
    if (index === -1) {
      throw usageError(
        `${selection.to} is not an applied migration`,
        'Run `backendkit migrate status` to see which migrations are applied.',
      )
    }
    count = names.length - index - 1
  } else if (selection.step !== undefined) {
    count = Math.min(selection.step, names.length)
  } else {
    const batches = applied.map((m) => m.batch ?? 0)
    const last = Math.max(0, ...batches)
    const first = last === 0 ? names.length - 1 : batches.indexOf(last)
    count = names.length === 0 ? 0 : names.length - first
  }
  return names.slice(names.length - count).reverse()
}

/** Exactly one of the selecting flags may be given. */
export function checkSelection(selection: DownSelection): void {
  const given = [
    selection.step !== undefined && '--step',
    selection.to !== undefined && '--to',
    selection.all && '--all',
  ].filter(Boolean)
  if (given.length > 1) {
    throw usageError(`${given.join(' and ')} cannot be combined`, 'Pass only one of them.')
  }
}
