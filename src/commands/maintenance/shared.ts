import type { MaintenanceState } from '../../../recipes/maintenance/files/src/maintenance/state.js'
import type { Style } from '../../core/output.js'

/** The `--json` shape of a maintenance state: the secret's hash stays out, whether there is one shows. */
export interface MaintenanceView {
  since: string
  retryAfter: number
  message: string | null
  bypass: boolean
  by: string | null
}

export interface MaintenanceData {
  prefix: string
  key: string
  /** The state the command leaves. */
  maintenance: boolean
  dryRun: boolean
  before: MaintenanceView | null
  after: MaintenanceView | null
  /** Whether running instances were told (null on a dry run or when nothing changed). */
  published: boolean | null
}

export function viewOf(state: MaintenanceState | null): MaintenanceView | null {
  if (!state) return null
  const { since, retryAfter, message, secretHash, by } = state
  return { since, retryAfter, message, bypass: secretHash !== null, by }
}

export function renderState(view: MaintenanceView, style: Style): string[] {
  return [
    `${style.dim('since')}        ${view.since}${view.by ? ` by ${view.by}` : ''}`,
    `${style.dim('retry after')}  ${view.retryAfter} s`,
    `${style.dim('message')}      ${view.message ?? '(default)'}`,
    `${style.dim('bypass')}       ${view.bypass ? 'header X-Maintenance-Bypass: <secret>, or visit /__maintenance/<secret>' : 'none'}`,
  ]
}
