import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { CommandContext } from '../../core/context.js'
import { BackendkitError, fileSystemError, usageError } from '../../core/errors.js'
import { type CommandResult, type Style, table } from '../../core/output.js'
import { CONFIG_FILE } from '../../core/project.js'
import { type AddEntry, planAdd } from '../../scaffold/add.js'
import { parseRecipeList } from '../../scaffold/resolve.js'

export interface AddData {
  root: string
  adding: string[]
  dryRun: boolean
  entries: AddEntry[]
  conflicts: number
}

function render(data: AddData, style: Style): string {
  if (data.adding.length === 0) return 'Nothing to add: every requested recipe is installed.'
  const paint = {
    create: style.green,
    update: style.cyan,
    merge: style.cyan,
    unchanged: style.dim,
    conflict: style.red,
  }
  const lines = [
    `Adding ${data.adding.join(', ')}:`,
    table(
      ['ACTION', 'FILE', 'RECIPE', 'NOTE'],
      data.entries.map((e) => [paint[e.action](e.action), e.path, e.recipe, e.note ?? '']),
      style,
    ),
  ]
  if (data.conflicts > 0) {
    lines.push(style.red(`${data.conflicts} conflict(s): nothing was written.`))
  } else if (data.dryRun) {
    lines.push(style.yellow('Dry run: nothing was written.'))
  } else {
    lines.push(
      style.green(`Added ${data.adding.join(', ')}.`),
      'Next: npm install, then review .env.example for new variables.',
    )
  }
  return lines.join('\n')
}

/** Writes one file atomically (temp file + rename), so a crash never leaves half a file. */
function writeAtomic(file: string, content: Buffer, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.backendkit-${process.pid}.tmp`
  writeFileSync(temp, content, { mode })
  renameSync(temp, file)
}

export default async function add(
  ctx: CommandContext,
  names: string[],
  options: { dryRun?: boolean },
): Promise<CommandResult<AddData>> {
  const { config, root } = ctx.project
  if (!config) {
    throw usageError(
      `Not a backendkit project: no ${CONFIG_FILE} in ${root} or above`,
      'Run it inside a project made by `backendkit new`, or pass --cwd <project>.',
      'E_NOT_A_PROJECT',
    )
  }
  const plan = planAdd(root, config, parseRecipeList(names))
  const conflicts = plan.entries.filter((e) => e.action === 'conflict')
  const data: AddData = {
    root,
    adding: plan.adding,
    dryRun: Boolean(options.dryRun),
    entries: plan.entries,
    conflicts: conflicts.length,
  }
  if (conflicts.length > 0) {
    ctx.reporter.info(render(data, ctx.reporter.style))
    throw new BackendkitError(
      `${conflicts.length} file(s) would be overwritten: ${conflicts.map((c) => c.path).join(', ')}`,
      {
        hint: 'backendkit never overwrites your changes: move them aside (or undo them), run add again, then merge.',
        code: 'E_CONFLICT',
      },
    )
  }
  if (!options.dryRun) {
    for (const [file, { content, mode }] of plan.writes) {
      try {
        writeAtomic(path.join(root, file), content, mode)
      } catch (error) {
        throw fileSystemError(error, `write ${file}`)
      }
    }
  }
  return { data, render: (style) => render(data, style) }
}
