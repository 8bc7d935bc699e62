import path from 'node:path'
import { BackendkitError } from '../core/errors.js'
import { npmNameProblem, toPackageName } from './npm-name.js'
import { type RecipeName, recipeNames, recipes } from './registry.js'
import type { PackageManager } from './steps.js'

export interface NewAnswers {
  dir: string
  name: string
  recipes: RecipeName[]
  pm: PackageManager
  install: boolean
  git: boolean
}

/** Fills in what the flags left open by asking; every prompt can be cancelled (Ctrl-C/Esc). */
export async function askNewAnswers(
  given: Partial<NewAnswers> & { recipes: RecipeName[]; pm: PackageManager },
  flags: { recipesGiven: boolean; installGiven: boolean; gitGiven: boolean },
): Promise<NewAnswers> {
  const prompts = await import('@clack/prompts')
  const answer = <T>(value: T): Exclude<T, symbol> => {
    if (prompts.isCancel(value)) {
      prompts.cancel('Cancelled; nothing was written.')
      throw new BackendkitError('Cancelled; nothing was written.', { code: 'E_CANCELLED' })
    }
    return value as Exclude<T, symbol>
  }
  prompts.intro('backendkit new')
  const dir =
    given.dir ??
    answer(
      await prompts.text({
        message: 'Where should the project go?',
        placeholder: 'my-api',
        defaultValue: 'my-api',
      }),
    )
  const name =
    given.name ??
    answer(
      await prompts.text({
        message: 'Package name',
        initialValue: toPackageName(path.basename(path.resolve(dir))),
        validate: (value) => {
          const problem = npmNameProblem(value ?? '')
          return problem ? `Not a valid npm package name: ${problem}` : undefined
        },
      }),
    )
  const chosen = flags.recipesGiven
    ? given.recipes
    : answer(
        await prompts.multiselect<RecipeName>({
          message: 'Patterns to include (core is always in)',
          options: recipeNames
            .filter((r) => r !== 'core')
            .map((r: RecipeName) => ({ value: r, label: r, hint: recipes[r].summary })),
          initialValues: given.recipes.filter((r) => r !== 'core'),
          required: false,
        }),
      )
  const pm = answer(
    await prompts.select<PackageManager>({
      message: 'Package manager',
      options: (['npm', 'pnpm', 'yarn'] as const).map((value) => ({ value, label: value })),
      initialValue: given.pm,
    }),
  )
  const install = flags.installGiven
    ? (given.install ?? true)
    : answer(await prompts.confirm({ message: 'Install dependencies now?', initialValue: true }))
  const git = flags.gitGiven
    ? (given.git ?? true)
    : answer(await prompts.confirm({ message: 'Create a git repository?', initialValue: true }))
  return { dir, name, recipes: chosen, pm, install, git }
}
