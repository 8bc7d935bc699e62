import type { Command } from 'commander'
import type { ActionFactory } from '../index.js'
import { addOptions, describe, option } from '../options.js'
import { collect } from '../parse.js'
import { operateOptions } from '../shared-options.js'

export const cacheInvalidateOptions = [
  describe(operateOptions.match, 'every entry whose key matches this Redis glob, e.g. "post:*"'),
  option('--tag <tag>', 'every entry carrying the tag, and the tag itself (repeatable)', {
    parse: collect,
  }),
  describe(operateOptions.all, 'every entry and every tag'),
  describe(operateOptions.dryRun, 'count and list the keys that would go; change nothing'),
] as const

export function registerCache(program: Command, action: ActionFactory, withVerbs: boolean): void {
  const cache = program
    .command('cache')
    .description("read and invalidate the service's Redis cache")
  if (!withVerbs) return

  cache
    .command('get')
    .description('one entry: value, TTL, tags, when it was stored')
    .argument('<key>', 'the cache key, e.g. post:123')
    .action(action(() => import('./get.js')))

  addOptions(
    cache
      .command('invalidate')
      .description('delete entries by key, glob, tag, or all of them (destructive)')
      .argument('[key...]', 'cache keys to delete, taken literally'),
    cacheInvalidateOptions,
  ).action(action(() => import('./invalidate.js')))

  cache
    .command('stats')
    .description('entries, approximate memory, hits, misses and hit ratio')
    .action(action(() => import('./stats.js')))
}
