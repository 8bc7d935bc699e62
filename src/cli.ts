import { Command } from 'commander'
import { lazyAction, type Runtime } from './commands/action.js'
import { registerCommands } from './commands/index.js'
import { addOptions } from './commands/options.js'
import { globalOptions } from './commands/shared-options.js'
import { type Io, processIo } from './core/io.js'

// Keep this module's static imports to commander and the command specs: everything else
// (error reporting and result printing included) is imported when it is needed, so that
// `backendkit --help` loads one file. bench/suites/cli-start.js measures it.

const { readFileSync } = process.getBuiltinModule('node:fs')
const version: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version

/** The program for these arguments (only the command group they name gets its verbs built). */
export function createProgram(runtime: Runtime, argv: readonly string[]): Command {
  const { io } = runtime
  const program = new Command('backendkit')
    .description('Scaffold a production Node.js service, then operate it.')
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
  addOptions(program, globalOptions)
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    // Throw instead of exiting; subcommands created below inherit this and the output settings.
    .exitOverride()
  registerCommands(program, (load) => lazyAction(runtime, load), argv)
  return program
}

/** Runs the CLI in-process and returns the exit code; never calls process.exit. */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const runtime: Runtime = { io }
  try {
    await createProgram(runtime, argv).parseAsync([...argv], { from: 'user' })
    if (!runtime.outcome) return 0
    const { result, ctx } = runtime.outcome
    const { printResult } = await import('./core/output.js')
    printResult(io, result, Boolean(ctx.options.json), ctx.style)
    return result.exitCode ?? 0
  } catch (error) {
    const { reportError } = await import('./core/report-error.js')
    return reportError(error, io, argv)
  }
}
