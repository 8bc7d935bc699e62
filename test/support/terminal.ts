import { spawn, spawnSync } from 'node:child_process'
import { stripVTControlCharacters } from 'node:util'
import { binPath } from './cli.js'

/** util-linux `script` gives a child a pseudo-terminal: prompts run as they do for a person. */
export const hasScript = spawnSync('script', ['--version']).status === 0

/** Wait for the first text to be on screen, then type the second. */
export type Step = [prompt: string, keys: string]

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`

/** Runs the built bin on a terminal and answers each prompt once it is on screen. */
export function typeAtPrompts(
  cwd: string,
  args: string[],
  steps: Step[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; screen: string }> {
  const command = `stty cols 120 rows 40; ${[process.execPath, binPath, ...args].map(quote).join(' ')}`
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ...env },
  })
  let screen = ''
  let seen = 0 // the screen up to here was already matched
  let next = 0
  child.stdout.on('data', (chunk) => {
    screen += stripVTControlCharacters(String(chunk))
    const step = steps[next]
    if (!step) return
    const at = screen.indexOf(step[0], seen)
    if (at === -1) return
    seen = at + step[0].length
    next++
    // a moment for the prompt to finish drawing and start reading keys
    setTimeout(() => child.stdin.write(step[1]), 150)
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, screen })
    })
  })
}
