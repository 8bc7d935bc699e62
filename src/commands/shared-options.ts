import { type OptionValues, option } from './options.js'
import { parsePositiveInt, parseRegExp, parseTime } from './parse.js'

/** The global options of DESIGN.md: every command takes them. */
export const globalOptions = [
  option('--cwd <dir>', 'project root (default: nearest dir with backendkit.json)'),
  option('--env-file <path>', 'env file to read (default: .env in the project)'),
  option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL)'),
  option('--redis-url <url>', 'Redis URL (default: $REDIS_URL)'),
  option(
    '--prefix <prefix>',
    'Redis key prefix (default: $REDIS_KEY_PREFIX, else redis.keyPrefix of backendkit.json, else "<name>:")',
  ),
  option('--json', 'print one JSON value on stdout and nothing else there'),
  option('-y, --yes', 'never prompt; accept destructive actions'),
  option('--no-color', 'no colours in the output'),
  option('--debug', 'show stack traces on errors'),
] as const

export type GlobalOptions = OptionValues<typeof globalOptions>

/** Job states a queue filter can name (BullMQ's lists). */
export const jobStates = [
  'failed',
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'completed',
] as const

/**
 * Filters the operate commands share. A command registers the ones it needs, with `describe()`
 * or `withDefault()` where its wording or default differs, so each is declared once.
 */
export const operateOptions = {
  dryRun: option('--dry-run', 'show what would change; change nothing'),
  all: option('--all', 'every item, not only the named ones'),
  limit: option('--limit <n>', 'at most n items', { parse: parsePositiveInt }),
  match: option('--match <glob>', 'a Redis glob: * any text, ? one character, [abc] a set'),
  state: option('--state <state>', 'jobs in this state', { choices: jobStates }),
  name: option('--name <jobName>', 'only jobs with this name'),
  reason: option('--reason <regex>', 'only jobs whose failure reason matches', {
    parse: parseRegExp,
  }),
  since: option('--since <time>', 'only items from then on (ISO time, or 30m, 2h, 1d ago)', {
    parse: (raw) => parseTime(raw),
  }),
  until: option('--until <time>', 'only items up to then (ISO time, or 30m, 2h, 1d ago)', {
    parse: (raw) => parseTime(raw),
  }),
  /** Who makes a change, for the record (flags history, maintenance state). */
  actor: option(
    '--actor <name>',
    'who is making the change, for the record (default: $BACKENDKIT_ACTOR, else your git user, else your OS user)',
  ),
} as const
