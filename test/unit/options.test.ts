import { Command, Option } from 'commander'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { namedCommand } from '../../src/commands/index.js'
import {
  addOptions,
  describe as describeOption,
  type OptionValues,
  option,
  withDefault,
} from '../../src/commands/options.js'
import { collect, parsePositiveInt, parseTime } from '../../src/commands/parse.js'
import { globalOptions, operateOptions } from '../../src/commands/shared-options.js'

const specs = [
  option('--dry-run', 'd'),
  option('-y, --yes', 'y'),
  option('--no-git', 'g'),
  option('--to <name>', 't'),
  option('--ids <id...>', 'i'),
  option('--limit <n>', 'l', { parse: parsePositiveInt }),
  option('--timeout <ms>', 't', { parse: Number, default: 60_000 }),
  option('--state <state>', 's', { choices: ['failed', 'waiting'] as const, default: 'failed' }),
  option('--tag <tag>', 'repeatable', { parse: collect }),
] as const

/** Parses argv with the specs, as a command would receive its options. */
function parse(argv: string[]): OptionValues<typeof specs> {
  const command = addOptions(new Command('t').exitOverride(), specs)
  command.parse(argv, { from: 'user' })
  return command.opts<OptionValues<typeof specs>>()
}

describe('options declared once', () => {
  it('infers the options type from the declarations', () => {
    expectTypeOf<OptionValues<typeof specs>>().toEqualTypeOf<{
      git: boolean
      timeout: number
      state: 'failed' | 'waiting'
      dryRun?: boolean
      yes?: boolean
      to?: string
      ids?: string[]
      limit?: number
      tag?: string[]
    }>()
    expectTypeOf<OptionValues<typeof globalOptions>>().toHaveProperty('redisUrl')
    expectTypeOf<OptionValues<typeof globalOptions>['prefix']>().toEqualTypeOf<string | undefined>()
  })

  it('gives the command exactly the values the type promises', () => {
    expect(parse([])).toEqual({ git: true, timeout: 60_000, state: 'failed' })
    expect(
      parse([
        '--dry-run',
        '-y',
        '--no-git',
        '--to',
        'x',
        '--ids',
        'a',
        'b',
        '--limit',
        '3',
        '--state',
        'waiting',
        '--tag',
        'p:1',
        '--tag',
        'p:2',
      ]),
    ).toEqual({
      dryRun: true,
      yes: true,
      git: false,
      to: 'x',
      ids: ['a', 'b'],
      limit: 3,
      timeout: 60_000,
      state: 'waiting',
      tag: ['p:1', 'p:2'],
    })
  })

  it.each([
    [['--limit', '0'], /Expected a positive whole number/],
    [['--state', 'nope'], /Allowed choices are failed, waiting/],
  ])('%j is refused with the reason', (argv, message) => {
    expect(() => parse(argv)).toThrow(message)
  })

  it.each([...globalOptions, ...Object.values(operateOptions)])(
    '$flags is stored under the name its type says',
    (spec) => {
      expect(spec.name).toBe(new Option(spec.flags).attributeName())
    },
  )

  it('describe() and withDefault() adapt a shared option without touching the original', () => {
    const dryRun = describeOption(operateOptions.dryRun, 'print the SQL, roll back')
    expect(dryRun.description).toBe('print the SQL, roll back')
    expect(operateOptions.dryRun.description).not.toBe(dryRun.description)
    const limit = withDefault(operateOptions.limit, 100)
    expectTypeOf<OptionValues<[typeof limit]>>().toEqualTypeOf<{ limit: number }>()
    expect(addOptions(new Command('t'), [limit]).parse([], { from: 'user' }).opts()).toEqual({
      limit: 100,
    })
  })
})

describe('parseTime', () => {
  const now = () => Date.parse('2026-11-25T12:00:00Z')
  it.each([
    ['2h', '2026-11-25T10:00:00.000Z'],
    ['30m', '2026-11-25T11:30:00.000Z'],
    ['2026-11-20', '2026-11-20T00:00:00.000Z'],
    ['2026-11-20T08:15:00Z', '2026-11-20T08:15:00.000Z'],
  ])('%s → %s', (input, iso) => expect(parseTime(input, now).toISOString()).toBe(iso))
  it.each(['yesterday', '11/20/2026', ''])('rejects %j', (input) => {
    expect(() => parseTime(input, now)).toThrow(/Expected an ISO date/)
  })
})

describe('namedCommand: the group whose verbs a run needs', () => {
  it.each([
    [[], undefined],
    [['--help'], undefined],
    [['cache', 'get', 'x'], 'cache'],
    [['--prefix', 'cache', 'ratelimit', 'list'], 'ratelimit'],
    [['--prefix=p:', '-y', '--json', 'cache'], 'cache'],
    [['--redis-url', 'redis://h', '--cwd', 'migrate', 'migrate', 'up'], 'migrate'],
    [['help', 'cache'], 'cache'],
    [['--', 'migrate'], 'migrate'],
  ])('%j → %s', (argv, name) => expect(namedCommand(argv)).toBe(name))
})
