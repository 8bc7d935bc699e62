import { existsSync } from 'node:fs'
import path from 'node:path'
import type { CommandContext } from '../../core/context.js'
import { BackendkitError, errorMessage, fileSystemError, usageError } from '../../core/errors.js'
import { type CommandResult, type Style, table } from '../../core/output.js'
import { nextSteps, recipeWarnings } from '../../scaffold/advice.js'
import {
  type BackendkitDependency,
  backendkitDependency,
} from '../../scaffold/backendkit-dependency.js'
import { npmNameProblem, toPackageName } from '../../scaffold/npm-name.js'
import { planProject } from '../../scaffold/plan.js'
import { askNewAnswers, type NewAnswers } from '../../scaffold/prompts.js'
import { type RecipeName, recipeNames } from '../../scaffold/registry.js'
import { parseRecipeList, resolveRecipes } from '../../scaffold/resolve.js'
import {
  checkTarget,
  detectPackageManager,
  initGit,
  installDependencies,
  type PackageManager,
  type StepResult,
} from '../../scaffold/steps.js'
import { writeProject } from '../../scaffold/write.js'

interface NewOptions {
  recipes?: string
  without?: string
  name?: string
  pm?: PackageManager
  install: boolean
  git: boolean
  dryRun?: boolean
  force?: boolean
}

export interface NewData {
  dir: string
  name: string
  recipes: RecipeName[]
  dryRun: boolean
  files: { path: string; recipe: string; bytes: number; status: 'create' | 'keep' }[]
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  scripts: Record<string, string>
  install: (StepResult & { ran: boolean }) | null
  git: (StepResult & { skipped?: string }) | null
  /** What the chosen recipes leave open (e.g. auth without a brute-force limit). */
  warnings: string[]
  /** The commands to run next, in order. */
  nextSteps: string[]
}

/** This backendkit, as the project's devDependency (from a checkout: packed into the project). */
function selfDependency(): BackendkitDependency {
  try {
    return backendkitDependency()
  } catch (error) {
    throw new BackendkitError(`Cannot pack this backendkit checkout: ${errorMessage(error)}`, {
      hint: 'Run `npm run build` in the checkout, then `new` again.',
      code: 'E_PACK',
    })
  }
}

/** The project folder as the user reaches it from `cwd`. */
function whereFrom(cwd: string, dir: string): string {
  const relative = path.relative(cwd, dir)
  return relative.startsWith('..') ? dir : relative || '.'
}

function renderNew(data: NewData, cwd: string, style: Style): string {
  const where = whereFrom(cwd, data.dir)
  const lines: string[] = []
  if (data.dryRun) {
    lines.push(
      `Plan for ${style.bold(data.name)} in ${where} (recipes: ${data.recipes.join(', ')}):`,
    )
    lines.push(
      table(
        ['ACTION', 'FILE', 'RECIPE', 'BYTES'],
        data.files.map((f) => [
          f.status === 'create' ? style.green('create') : style.yellow('keep'),
          f.path,
          f.recipe,
          String(f.bytes),
        ]),
        style,
        ['left', 'left', 'left', 'right'],
      ),
    )
    const deps = (record: Record<string, string>) =>
      Object.entries(record)
        .map(([name, version]) => `${name}@${version}`)
        .join(', ')
    lines.push(`dependencies: ${deps(data.dependencies)}`)
    lines.push(`devDependencies: ${deps(data.devDependencies)}`)
    lines.push(`scripts: ${Object.keys(data.scripts).join(', ')}`)
    lines.push(style.yellow('Dry run: nothing was written.'))
    return lines.join('\n')
  }
  const kept = data.files.filter((f) => f.status === 'keep')
  lines.push(
    style.green(
      `Created ${data.name} in ${where}: ${data.files.length - kept.length} files, recipes ${data.recipes.join(', ')}.`,
    ),
  )
  if (kept.length)
    lines.push(
      style.yellow(
        `Kept ${kept.length} existing file(s) as they were: ${kept.map((f) => f.path).join(', ')}`,
      ),
    )
  if (data.git?.skipped) lines.push(style.dim(`git: ${data.git.skipped}`))
  lines.push('', 'Next steps:', ...data.nextSteps.map((s) => `  ${s}`))
  return lines.join('\n')
}

export default async function newProject(
  ctx: CommandContext,
  dirArg: string | undefined,
  options: NewOptions,
): Promise<CommandResult<NewData>> {
  const requested = parseRecipeList(options.recipes)
  const without = parseRecipeList(options.without)
  if (options.recipes !== undefined && options.without !== undefined) {
    throw usageError('--recipes and --without cannot be combined', 'Pass one of them.')
  }
  // Default: every recipe, i.e. the complete service.
  const initial = resolveRecipes(options.recipes !== undefined ? requested : recipeNames, without)
  if (options.name !== undefined) {
    const problem = npmNameProblem(options.name)
    if (problem)
      throw usageError(
        `--name "${options.name}" is not a valid npm package name: ${problem}`,
        'Use e.g. --name my-api or --name @acme/my-api.',
      )
  }
  const pm = options.pm ?? detectPackageManager(ctx.io.env)
  let answers: NewAnswers
  if (ctx.interactive) {
    answers = await askNewAnswers(
      {
        dir: dirArg,
        name: options.name,
        recipes: initial,
        pm,
        install: options.install,
        git: options.git,
      },
      {
        recipesGiven: options.recipes !== undefined || options.without !== undefined,
        installGiven: options.install === false,
        gitGiven: options.git === false,
      },
    )
    answers.recipes = resolveRecipes(answers.recipes)
  } else {
    const dir = dirArg ?? 'my-api'
    answers = {
      dir,
      name: options.name ?? toPackageName(path.basename(path.resolve(ctx.io.cwd, dir))),
      recipes: initial,
      pm,
      install: options.install,
      git: options.git,
    }
  }
  const problem = npmNameProblem(answers.name)
  if (problem) {
    throw usageError(
      `"${answers.name}" is not a valid npm package name: ${problem}`,
      'Pass --name <pkg>.',
    )
  }
  const target = path.resolve(ctx.io.cwd, answers.dir)
  const { exists } = checkTarget(target, Boolean(options.force))
  const plan = planProject(answers.name, answers.recipes, { backendkit: selfDependency() })
  const existing = (file: string) => exists && existsSync(path.join(target, file))
  const files = plan.files.map((f) => ({
    path: f.path,
    recipe: f.recipe,
    bytes: f.content.length,
    status: existing(f.path) ? ('keep' as const) : ('create' as const),
  }))
  const data: NewData = {
    dir: target,
    name: answers.name,
    recipes: answers.recipes,
    dryRun: Boolean(options.dryRun),
    files,
    dependencies: plan.dependencies,
    devDependencies: plan.devDependencies,
    scripts: plan.scripts,
    install: null,
    git: null,
    warnings: recipeWarnings(answers.recipes),
    nextSteps: [],
  }
  for (const warning of data.warnings) ctx.reporter.info(`warning: ${warning}`)
  const render = (style: Style) => renderNew(data, ctx.io.cwd, style)
  if (options.dryRun) return { data, render }

  try {
    writeProject(target, plan.files)
  } catch (error) {
    throw fileSystemError(error, `write the project to ${target}`)
  }
  if (answers.install) {
    data.install = { ...(await installDependencies(ctx, target, answers.pm)), ran: true }
  }
  if (answers.git) data.git = await initGit(ctx, target)
  data.nextSteps = nextSteps({
    where: whereFrom(ctx.io.cwd, target),
    recipes: answers.recipes,
    installed: Boolean(data.install?.ran && data.install.ok),
  })
  if (data.install && !data.install.ok) {
    // The project stays: only the install failed.
    ctx.reporter.info(render(ctx.style))
    throw new BackendkitError(
      `Installing dependencies failed${data.install.detail ? `:\n${data.install.detail}` : ''}`,
      {
        hint: `The project is written; retry with: ${data.install.command}`,
        code: 'E_INSTALL',
      },
    )
  }
  return { data, render }
}
