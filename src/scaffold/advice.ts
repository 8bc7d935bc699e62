import { existsSync } from 'node:fs'
import path from 'node:path'
import { packageRoot } from './package-root.js'
import type { RecipeName } from './recipe-names.js'

/** What a chosen set of recipes leaves open, said when the project is created. */
export function recipeWarnings(recipes: readonly RecipeName[]): string[] {
  const warnings: string[] = []
  if (recipes.includes('auth') && !recipes.includes('rate-limit')) {
    warnings.push(
      'auth without rate-limit: login and register have no brute-force limit. Add it with `backendkit add rate-limit`.',
    )
  }
  return warnings
}

/**
 * How to run a backendkit command on the project in `dir`: `npx backendkit …` from an installed
 * package; from a checkout of backendkit (not published yet), through this checkout's own script.
 */
export function operateCommand(dir: string, args: string): string {
  const root = packageRoot()
  if (!existsSync(path.join(root, 'src', 'cli.ts'))) return `npx backendkit ${args}`
  return `(cd ${root} && npm run backendkit -- ${args} --cwd ${path.resolve(dir)})`
}

/** The first commands after `new`, in order. */
export function nextSteps(options: {
  dir: string
  /** How the user reaches the project from where they are. */
  where: string
  recipes: readonly RecipeName[]
  installed: boolean
}): string[] {
  const operate = (args: string) => operateCommand(options.dir, args)
  const steps = [`cd ${options.where}`]
  if (!options.installed) steps.push('npm install')
  steps.push('cp .env.example .env   # then set its values')
  if (options.recipes.includes('database')) {
    steps.push(`${operate('migrate up')}   # create the tables`, 'npm run db:seed')
  }
  steps.push('npm run dev', operate('health --wait'))
  return steps
}
