import { type Command, Option } from 'commander'

/*
 * Options declared once. An option is a plain value: its flags, description, parser and default.
 * A command's options type is inferred from the list it registers, so a verb never re-declares
 * by hand what commander will hand it, and operate commands share one declaration of each filter
 * (see shared-options.ts). Everything here is cheap: specs are built on every start, `--help`
 * included.
 */

/** `'-y, --yes'` → `'yes'`; `'--since <time>'` → `'since'`; `'--no-git'` → `'no-git'`. */
type LongFlag<Flags extends string> = Flags extends `${string}--${infer Rest}`
  ? Rest extends `${infer Name} ${string}`
    ? Name
    : Rest
  : never

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S

/** The key commander stores an option under (its `attributeName()`), computed from the flags. */
export type AttributeName<Flags extends string> =
  LongFlag<Flags> extends `no-${infer Negated}` ? CamelCase<Negated> : CamelCase<LongFlag<Flags>>

type Negatable<Flags extends string> = LongFlag<Flags> extends `no-${string}` ? true : false

/** What commander stores for flags without a parser: a switch, a value, a list. */
export type RawValue<Flags extends string> = Flags extends `${string}<${string}...>${string}`
  ? string[]
  : Flags extends `${string}<${string}>${string}`
    ? string
    : Flags extends `${string}[${string}]${string}`
      ? string | true
      : boolean

export interface OptionSpec<Name extends string = string, Value = unknown, Always = boolean> {
  readonly name: Name
  readonly flags: string
  readonly description: string
  /** Turns the text given on the command line into the value (commander's argParser). */
  readonly parse?: ((raw: string, previous: Value | undefined) => Value) | undefined
  readonly defaultValue?: Value | undefined
  /** How the default shows in --help when the value itself would not read well (e.g. ms). */
  readonly defaultDescription?: string | undefined
  readonly choices?: readonly string[] | undefined
  /** True when the command always receives a value: a default, or a `--no-…` switch. */
  readonly always: Always
}

// biome-ignore lint/suspicious/noExplicitAny: the widest spec; values are recovered by inference
export type AnyOptionSpec = OptionSpec<string, any, boolean>

interface ParsedConfig<Value> {
  parse: (raw: string, previous: Value | undefined) => Value
  defaultDescription?: string
}

/** A switch or a plain text value: `option('--dry-run', '…')`, `option('--to <name>', '…')`. */
export function option<const Flags extends string>(
  flags: Flags,
  description: string,
): OptionSpec<AttributeName<Flags>, RawValue<Flags>, Negatable<Flags>>
/** One of a fixed set of words, optionally with a default. */
export function option<const Flags extends string, const Choice extends string>(
  flags: Flags,
  description: string,
  config: { choices: readonly Choice[]; default: NoInfer<Choice> },
): OptionSpec<AttributeName<Flags>, Choice, true>
export function option<const Flags extends string, const Choice extends string>(
  flags: Flags,
  description: string,
  config: { choices: readonly Choice[] },
): OptionSpec<AttributeName<Flags>, Choice, false>
/** A parsed value with a default: the command always receives a value. */
export function option<const Flags extends string, Value>(
  flags: Flags,
  description: string,
  config: ParsedConfig<Value> & { default: NoInfer<Value> },
): OptionSpec<AttributeName<Flags>, Value, true>
/** A parsed value, absent unless given. */
export function option<const Flags extends string, Value>(
  flags: Flags,
  description: string,
  config: ParsedConfig<Value>,
): OptionSpec<AttributeName<Flags>, Value, false>
export function option(
  flags: string,
  description: string,
  config: {
    parse?: (raw: string, previous: unknown) => unknown
    default?: unknown
    defaultDescription?: string
    choices?: readonly string[]
  } = {},
): AnyOptionSpec {
  const long = /--([^\s,|]+)/.exec(flags)?.[1] ?? ''
  const negate = long.startsWith('no-')
  return {
    name: attributeName(long),
    flags,
    description,
    parse: config.parse,
    defaultValue: config.default,
    defaultDescription: config.defaultDescription,
    choices: config.choices,
    always: config.default !== undefined || negate,
  }
}

/**
 * `dry-run` → `dryRun`, `no-git` → `git`: commander's attributeName(), without building an
 * Option (every spec is declared on every start). A test holds the two to the same answer.
 */
function attributeName(long: string): string {
  return long.replace(/^no-/, '').replace(/-(.)/g, (_, char: string) => char.toUpperCase())
}

/** The same option with the wording one command needs (`--dry-run` means different things). */
export function describe<Spec extends AnyOptionSpec>(spec: Spec, description: string): Spec {
  return { ...spec, description }
}

/** The same option with a default of this command's: the command then always receives a value. */
export function withDefault<Name extends string, Value>(
  spec: OptionSpec<Name, Value, boolean>,
  value: NoInfer<Value>,
  description?: string,
): OptionSpec<Name, Value, true> {
  return {
    ...spec,
    defaultValue: value,
    always: true,
    ...(description === undefined ? {} : { description }),
  }
}

type Simplify<T> = { [K in keyof T]: T[K] } & {}
type ValueOf<Spec> = Spec extends OptionSpec<string, infer Value, boolean> ? Value : never

/** The options object commander hands a command that registered `Specs`. */
export type OptionValues<Specs extends readonly AnyOptionSpec[]> = Simplify<
  {
    [Spec in Specs[number] as Spec['always'] extends true ? Spec['name'] : never]: ValueOf<Spec>
  } & {
    [Spec in Specs[number] as Spec['always'] extends true ? never : Spec['name']]?: ValueOf<Spec>
  }
>

/** Registers the specs on a commander command, in order. */
export function addOptions<C extends Command>(command: C, specs: readonly AnyOptionSpec[]): C {
  for (const spec of specs) {
    const entry = new Option(spec.flags, spec.description)
    if (spec.choices) entry.choices(spec.choices)
    // after choices(), which installs its own parser: a spec's parser checks its own values
    if (spec.parse) entry.argParser(spec.parse)
    if (spec.defaultValue !== undefined) entry.default(spec.defaultValue, spec.defaultDescription)
    command.addOption(entry)
  }
  return command
}
