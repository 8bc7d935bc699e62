import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { lazyAction, type Runtime } from './commands/action.js'
import { registerCommands } from './commands/index.js'
import { BackendkitError, ExitCode, errorMessage } from './core/errors.js'
import { type Io, processIo } from './core/io.js'
import { colorStyle, plainStyle, printResult, useColor } from './core/output.js'
import { redact } from './core/redact.js'

const version: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version

export function createProgram(runtime: Runtime): Command {
  const { io } = runtime
  const program = new Command('backendkit')
    .description('Scaffold a production Node.js service, then operate it.')
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addOption(
      new Option('--cwd <dir>', 'project root (default: nearest dir with backendkit.json)'),
    )
    .addOption(new Option('--env-file <path>', 'env file to read (default: .env in the project)'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL)'))
    .addOption(new Option('--redis-url <url>', 'Redis URL (default: $REDIS_URL)'))
    .option('--json', 'print one JSON value on stdout and nothing else there')
    .option('-y, --yes', 'never prompt; accept destructive actions')
    .option('--no-color', 'no colours in the output')
    .option('--debug', 'show stack traces on errors')
    .showSuggestionAfterError(true)
    .showHelpAfterError(false)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
  registerCommands(program, (load) => lazyAction(runtime, load))
  // Subcommands inherit output handling and exit behaviour (commander copies settings on add).
  return program
}

/** Runs the CLI in-process and returns the exit code; never calls process.exit. */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const runtime: Runtime = { io }
  const flags = new Set(argv)
  const debug = flags.has('--debug')
  const json = flags.has('--json')
  const errStyle = useColor(io.stderr, io.env, !flags.has('--no-color')) ? colorStyle : plainStyle
  try {
    const program = createProgram(runtime)
    await program.parseAsync([...argv], { from: 'user' })
    const outcome = runtime.outcome
    if (!outcome) return ExitCode.ok
    printResult(io, outcome.result, Boolean(outcome.ctx.options.json), outcome.ctx.style)
    return outcome.result.exitCode ?? ExitCode.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version'].includes(error.code)) return ExitCode.ok
      // commander printed the problem (with "Did you mean …?" where it has a guess).
      const hint =
        error.code === 'commander.help'
          ? ''
          : 'Run `backendkit --help` to see commands and options.'
      if (hint) io.stderr.write(`${errStyle.dim('hint:')} ${hint}\n`)
      if (json)
        io.stdout.write(
          `${JSON.stringify({ error: { message: redact(error.message), code: 'E_USAGE' } })}\n`,
        )
      return ExitCode.usage
    }
    const known = error instanceof BackendkitError ? error : undefined
    const message = known ? known.message : `Unexpected error: ${errorMessage(error)}`
    const hint = known
      ? known.hint
      : 'This is a bug in backendkit; run again with --debug and report the output.'
    io.stderr.write(`${errStyle.red('error:')} ${redact(message)}\n`)
    if (hint) io.stderr.write(`${errStyle.dim('hint:')} ${redact(hint)}\n`)
    if (debug && error instanceof Error && error.stack) {
      io.stderr.write(`${redact(error.stack)}\n`)
      if (error.cause instanceof Error && error.cause.stack) {
        io.stderr.write(`caused by: ${redact(error.cause.stack)}\n`)
      }
    }
    if (json) {
      const body = {
        error: {
          message: redact(message),
          code: known?.code ?? 'E_INTERNAL',
          ...(hint ? { hint: redact(hint) } : {}),
        },
      }
      io.stdout.write(`${JSON.stringify(body)}\n`)
    }
    return known ? known.exitCode : ExitCode.failure
  }
}
