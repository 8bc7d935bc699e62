import { usageError } from '../core/errors.js'
import { isRecipeName, type RecipeName, recipeNames, recipes } from './registry.js'

function unknownRecipe(name: string) {
  return usageError(
    `Unknown recipe "${name}"`,
    `Known recipes: ${recipeNames.join(', ')} (see \`backendkit recipes\`).`,
    'E_UNKNOWN_RECIPE',
  )
}

/** Splits "a, b,c" flag values; empty parts are ignored. */
export function parseRecipeList(values: readonly string[] | string | undefined): string[] {
  const list = typeof values === 'string' ? [values] : (values ?? [])
  return list
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter(Boolean)
}

/**
 * The recipes to install for a request: each named one, everything it requires (transitively),
 * and core, in registry order (which puts every recipe after what it requires). A recipe in
 * `without` that another selected recipe requires is a usage error.
 */
export function resolveRecipes(
  requested: readonly string[],
  without: readonly string[] = [],
): RecipeName[] {
  for (const name of [...requested, ...without]) {
    if (!isRecipeName(name)) throw unknownRecipe(name)
  }
  if (without.includes('core')) {
    throw usageError('The core recipe cannot be left out', 'Every project is built on it.')
  }
  const selected = new Set<RecipeName>()
  const requiredBy = new Map<RecipeName, RecipeName>()
  const visit = (name: RecipeName, by?: RecipeName) => {
    if (by && !requiredBy.has(name)) requiredBy.set(name, by)
    if (selected.has(name)) return
    selected.add(name)
    for (const dependency of recipes[name].requires) {
      if (!isRecipeName(dependency)) throw unknownRecipe(dependency)
      visit(dependency, name)
    }
  }
  visit('core')
  for (const name of requested as RecipeName[]) visit(name)
  for (const name of without as RecipeName[]) {
    if (!selected.has(name)) continue
    const by = requiredBy.get(name)
    if (by && !without.includes(by)) {
      throw usageError(
        `Cannot leave out "${name}": the "${by}" recipe requires it`,
        `Leave out "${by}" too, or keep "${name}".`,
      )
    }
    selected.delete(name)
  }
  return recipeNames.filter((name) => selected.has(name))
}
