import { auth } from '../../recipes/auth/recipe.js'
import { core } from '../../recipes/core/recipe.js'
import { database } from '../../recipes/database/recipe.js'
import { rest } from '../../recipes/rest/recipe.js'
import type { Recipe } from './recipe.js'

/** Every recipe, in the order they install (a recipe comes after what it requires). */
export const recipes = {
  core,
  database,
  auth,
  rest,
} satisfies Record<string, Recipe>

export type RecipeName = keyof typeof recipes
export const recipeNames = Object.keys(recipes) as RecipeName[]

export function isRecipeName(name: string): name is RecipeName {
  return Object.hasOwn(recipes, name)
}
