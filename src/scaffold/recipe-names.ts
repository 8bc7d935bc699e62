/**
 * Every recipe's name, in the order recipes install: a recipe comes after what it requires, and
 * a module that uses another's service (rest uses the cache) after it. `requires` is typed
 * against this list, and the registry must define exactly these.
 */
export const recipeNames = [
  'core',
  'database',
  'redis',
  'maintenance',
  'rate-limit',
  'cache',
  'auth',
  'rest',
  'flags',
  'events',
  'queues',
  'jobs',
  'realtime',
  'observability',
  'deploy',
] as const

export type RecipeName = (typeof recipeNames)[number]

export function isRecipeName(name: string): name is RecipeName {
  return (recipeNames as readonly string[]).includes(name)
}
