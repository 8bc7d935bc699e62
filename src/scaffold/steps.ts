import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import type { CommandContext } from '../core/context.js'
import { usageError } from '../core/errors.js'

export type PackageManager = 'npm' | 'pnpm' | 'yarn'

/** The package manager that runs us (npx → npm, pnpm dlx → pnpm, yarn dlx → yarn). */
export function detectPackageManager(env: Record<string, string | undefined>): PackageManager {
  const agent = env.npm_config_user_agent ?? ''
  if (agent.startsWith('pnpm')) return 'pnpm'
  if (agent.startsWith('yarn')) return 'yarn'
  return 'npm'
}

/** A new project goes into a missing or empty folder; anything else needs --force. */
export function checkTarget(target: string, force: boolean): { exists: boolean } {
  if (!existsSync(target)) return { exists: false }
  if (!statSync(target).isDirectory()) {
    throw usageError(
      `${target} exists and is not a folder`,
      'Choose another place for the project.',
    )
  }
  const entries = readdirSync(target).filter((entry) => entry !== '.DS_Store')
  if (entries.length > 0 && !force) {
    throw usageError(
      `${target} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'})`,
      'Choose an empty or new folder, or pass --force to add the project around what is there (no existing file is overwritten).',
      'E_TARGET_NOT_EMPTY',
    )
  }
  return { exists: true }
}

export interface StepResult {
  ok: boolean
  /** What the user can run to do it themselves, when it failed or was skipped. */
  command: string
  detail?: string
}

/** Installs dependencies; a failure keeps the project and says exactly what to run. */
export async function installDependencies(
  ctx: Pick<CommandContext, 'reporter' | 'interactive' | 'io'>,
  cwd: string,
  pm: PackageManager,
): Promise<StepResult> {
  const { execa } = await import('execa')
  const relative = path.relative(ctx.io.cwd, cwd)
  const command = `cd ${relative.startsWith('..') ? cwd : relative || '.'} && ${pm} install`
  let spinner:
    | { start(msg: string): void; stop(msg: string): void; error(msg: string): void }
    | undefined
  if (ctx.interactive) {
    const { spinner: createSpinner } = await import('@clack/prompts')
    spinner = createSpinner()
    spinner.start(`Installing dependencies with ${pm}`)
  } else {
    ctx.reporter.info(`Installing dependencies with ${pm}…`)
  }
  const result = await execa(pm, ['install'], {
    cwd,
    env: ctx.io.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: true,
  })
  if (result.exitCode === 0 && !result.failed) {
    spinner?.stop('Dependencies installed')
    return { ok: true, command }
  }
  spinner?.error('Installing dependencies failed')
  const tail = (result.all ?? result.message ?? '').trim().split('\n').slice(-8).join('\n')
  return { ok: false, command, detail: tail }
}

/** git init + a first commit; skipped inside an existing repository, never fatal. */
export async function initGit(
  ctx: Pick<CommandContext, 'io'>,
  cwd: string,
): Promise<StepResult & { skipped?: string }> {
  const { execa } = await import('execa')
  const git = (...args: string[]) =>
    execa('git', args, { cwd, env: ctx.io.env, extendEnv: false, reject: false, stdin: 'ignore' })
  const command = 'git init && git add -A && git commit -m "Initial commit"'
  const inside = await git('rev-parse', '--is-inside-work-tree')
  if (inside.failed && (inside as { code?: string }).code === 'ENOENT') {
    return { ok: false, command, skipped: 'git is not installed' }
  }
  if (inside.exitCode === 0 && inside.stdout.trim() === 'true') {
    return { ok: true, command, skipped: 'already inside a git repository' }
  }
  if ((await git('init', '-q')).exitCode !== 0) return { ok: false, command }
  await git('add', '-A')
  const identity = await git('config', 'user.email')
  if (identity.exitCode !== 0 || !identity.stdout.trim()) {
    return {
      ok: true,
      command: 'git commit -m "Initial commit"',
      skipped: 'no git identity (user.name / user.email): files are staged, not committed',
    }
  }
  const commit = await git('commit', '-q', '-m', 'Initial commit from backendkit')
  return commit.exitCode === 0
    ? { ok: true, command }
    : { ok: false, command, detail: commit.stderr }
}
