/*
 * What `flags set` changes, as pure functions: the settings a flag has, a change to them, and
 * the difference between two, for the confirmation, the dry run and the history.
 */

/** A flag apart from its name and who changed it when: what the history records. */
export interface FlagSettings {
  enabled: boolean
  percentage: number
  allow: string[]
  deny: string[]
  description: string
}

/** The settings `flags set` was given; anything absent stays as it is. */
export type FlagChange = Partial<FlagSettings>

/** A flag created with only some settings given has these for the rest: off, 100 %, no lists. */
export const NEW_FLAG: FlagSettings = {
  enabled: false,
  percentage: 100,
  allow: [],
  deny: [],
  description: '',
}

const unique = (items: readonly string[]) => [...new Set(items)]

/** The settings after `change`, from `before` (or a new flag's). */
export function applyChange(before: FlagSettings | null, change: FlagChange): FlagSettings {
  const base = before ?? NEW_FLAG
  return {
    enabled: change.enabled ?? base.enabled,
    percentage: change.percentage ?? base.percentage,
    allow: unique(change.allow ?? base.allow),
    deny: unique(change.deny ?? base.deny),
    description: change.description ?? base.description,
  }
}

export interface FieldChange {
  field: keyof FlagSettings
  before: FlagSettings[keyof FlagSettings] | null
  after: FlagSettings[keyof FlagSettings]
}

const fields = ['enabled', 'percentage', 'allow', 'deny', 'description'] as const

/** Each setting that differs (every setting when there was no flag before). */
export function diffSettings(before: FlagSettings | null, after: FlagSettings): FieldChange[] {
  return fields
    .filter(
      (field) => before === null || JSON.stringify(before[field]) !== JSON.stringify(after[field]),
    )
    .map((field) => ({
      field,
      before: before === null ? null : before[field],
      after: after[field],
    }))
}

function show(value: FieldChange['after'] | null): string {
  if (value === null) return '-'
  if (Array.isArray(value)) return value.length ? value.join(',') : '(none)'
  if (typeof value === 'string') return value === '' ? '""' : JSON.stringify(value)
  return String(value)
}

/** `enabled false → true`, `percentage 100 → 25`, or for a new flag `enabled true`. */
export function describeFieldChange(change: FieldChange): string {
  return change.before === null
    ? `${change.field} ${show(change.after)}`
    : `${change.field} ${show(change.before)} → ${show(change.after)}`
}
