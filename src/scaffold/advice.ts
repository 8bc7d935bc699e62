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
 * How to run a backendkit command on the project: the project's own backendkit (a devDependency
 * pinned to the version that generated it, from the registry or packed from a checkout).
 */
export function operateCommand(args: string): string {
  return `npx backendkit ${args}`
}

/** The first commands after `new`, in order. */
export function nextSteps(options: {
  /** How the user reaches the project from where they are. */
  where: string
  recipes: readonly RecipeName[]
  installed: boolean
}): string[] {
  const steps = [`cd ${options.where}`]
  if (!options.installed) steps.push('npm install')
  steps.push('cp .env.example .env   # then set its values')
  if (options.recipes.includes('database')) {
    steps.push(`${operateCommand('migrate up')}   # create the tables`, 'npm run db:seed')
  }
  steps.push('npm run dev', operateCommand('health --wait'))
  return steps
}
