import { auth } from '../../recipes/auth/recipe.js'
import { cache } from '../../recipes/cache/recipe.js'
import { core } from '../../recipes/core/recipe.js'
import { database } from '../../recipes/database/recipe.js'
import { deploy } from '../../recipes/deploy/recipe.js'
import { events } from '../../recipes/events/recipe.js'
import { flags } from '../../recipes/flags/recipe.js'
import { jobs } from '../../recipes/jobs/recipe.js'
import { maintenance } from '../../recipes/maintenance/recipe.js'
import { observability } from '../../recipes/observability/recipe.js'
import { queues } from '../../recipes/queues/recipe.js'
import { rateLimit } from '../../recipes/rate-limit/recipe.js'
import { realtime } from '../../recipes/realtime/recipe.js'
import { redis } from '../../recipes/redis/recipe.js'
import { rest } from '../../recipes/rest/recipe.js'
import type { Recipe } from './recipe.js'
import type { RecipeName } from './recipe-names.js'

/** Every recipe, by name (the install order is recipeNames'). */
export const recipes = {
  core,
  database,
  redis,
  maintenance,
  'rate-limit': rateLimit,
  cache,
  auth,
  rest,
  flags,
  events,
  queues,
  jobs,
  realtime,
  observability,
  deploy,
} satisfies { [Name in RecipeName]: Recipe<Name> }

export { isRecipeName, type RecipeName, recipeNames } from './recipe-names.js'
