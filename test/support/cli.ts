import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/cli.js'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const binPath = path.join(repoRoot, 'bin/backendkit.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface InProcessResult extends CliResult {
  /** The questions the command asked, in order. */
  prompts: string[]
}

export interface CliOptions {
  cwd?: string
  /** The whole environment of the run: nothing leaks in from the test process. */
  env?: Record<string, string | undefined>
  tty?: boolean
}

export interface InProcessOptions extends CliOptions {
  /** Answers to the confirmations the command asks (with `tty: true`), in order. */
  answers?: boolean[]
}

function baseEnv(extra: CliOptions['env']): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra }
}

/**
 * Runs the CLI in-process, the way commands are tested: captured output, and with `tty: true` a
 * terminal whose confirmations are answered from `answers` (a question beyond them fails the run).
 */
export async function runCli(
  args: string[],
  options: InProcessOptions = {},
): Promise<InProcessResult> {
  let stdout = ''
  let stderr = ''
  const prompts: string[] = []
  const answers = [...(options.answers ?? [])]
  const code = await run(args, {
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: options.tty ?? false },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: options.tty ?? false },
    stdin: { isTTY: options.tty ?? false },
    env: baseEnv(options.env),
    cwd: options.cwd ?? process.cwd(),
    prompt: {
      async confirm(message) {
        prompts.push(message)
        const answer = answers.shift()
        if (answer === undefined) throw new Error(`unexpected prompt: ${message}`)
        return answer
      },
    },
  })
  return { code, stdout, stderr, prompts }
}

/** Spawns the built bin the way a user runs it (Node 24 from this repo's devDependency). */
export function runBin(
  args: string[],
  options: CliOptions & { node?: string; timeoutMs?: number } = {},
): Promise<CliResult & { ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(options.node ?? process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: baseEnv(options.env) as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        ms: performance.now() - started,
      }),
    )
  })
}
