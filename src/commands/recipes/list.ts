import type { CommandContext } from '../../core/context.js'
import { type CommandResult, table } from '../../core/output.js'
import { recipeNames, recipes } from '../../scaffold/registry.js'

export interface RecipeInfo {
  name: string
  summary: string
  requires: string[]
  adds: string[]
  dependencies: string[]
  env: string[]
}

export default async function listRecipes(
  _ctx: CommandContext,
): Promise<CommandResult<RecipeInfo[]>> {
  const data = recipeNames.map((name) => {
    const recipe = recipes[name]
    return {
      name,
      summary: recipe.summary,
      requires: [...recipe.requires],
      adds: [...recipe.adds],
      dependencies: [...recipe.dependencies],
      env: recipe.env.map((v) => v.name),
    }
  })
  return {
    data,
    render: (style) =>
      table(
        ['RECIPE', 'SUMMARY', 'REQUIRES', 'ADDS'],
        data.map((r) => [
          style.bold(r.name),
          r.summary,
          r.requires.join(', ') || '-',
          r.adds.join(', '),
        ]),
        style,
      ),
  }
}
