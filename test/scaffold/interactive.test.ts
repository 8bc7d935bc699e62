import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import { binPath } from '../support/cli.js'

/**
 * `new` on a real terminal: util-linux `script` gives the bin a pseudo-terminal, and the test
 * types at the prompts like a person: each answer once its prompt is on the screen.
 */
const hasScript = spawnSync('script', ['--version']).status === 0

type Step = [prompt: string, keys: string]

function typeAtPrompts(
  cwd: string,
  steps: Step[],
): Promise<{ code: number | null; screen: string }> {
  const command = `stty cols 120 rows 40; ${process.execPath} ${binPath} new`
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm' },
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

const folder: Step = ['Where should the project go?', '']
const name: Step = ['Package name', '\r']
const recipes: Step = ['Patterns to include', '\r']
const manager: Step = ['Package manager', '\r']
const noInstall: Step = ['Install dependencies now?', 'n\r']
const noGit: Step = ['Create a git repository?', 'n\r']

describe.skipIf(!hasScript)('backendkit new on a terminal', () => {
  it('asks for each choice, takes the defaults, and writes the project', {
    timeout: 30_000,
  }, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-tty-'))
    // folder, package name, recipes (all preselected), package manager, install? no, git? no
    const { code, screen } = await typeAtPrompts(cwd, [
      [folder[0], 'shop-api\r'],
      name,
      recipes,
      manager,
      noInstall,
      noGit,
    ])
    expect(code, screen).toBe(0)
    expect(screen).toContain('Where should the project go?')
    expect(screen).toContain('Package name')
    expect(screen).toContain('Patterns to include')
    const root = path.join(cwd, 'shop-api')
    const config = JSON.parse(readFileSync(path.join(root, 'backendkit.json'), 'utf8'))
    expect(config.name).toBe('shop-api')
    expect(config.recipes).toContain('database')
    expect(existsSync(path.join(root, 'node_modules'))).toBe(false)
    expect(existsSync(path.join(root, '.git'))).toBe(false)
  })

  it('rejects an invalid package name at the prompt, then accepts a valid one', {
    timeout: 30_000,
  }, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-tty-'))
    const clear = '\x7f'.repeat(20)
    const { code, screen } = await typeAtPrompts(cwd, [
      [folder[0], 'x\r'],
      [name[0], `${clear}Bad Name\r`],
      ['Not a valid npm package name', `${clear}good-name\r`],
      recipes,
      manager,
      noInstall,
      noGit,
    ])
    expect(code, screen).toBe(0)
    expect(screen).toContain('Not a valid npm package name')
    expect(JSON.parse(readFileSync(path.join(cwd, 'x/backendkit.json'), 'utf8')).name).toBe(
      'good-name',
    )
  })

  it('Ctrl-C at a prompt cancels: exit 1, nothing written', { timeout: 30_000 }, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-tty-'))
    const { code, screen } = await typeAtPrompts(cwd, [
      [folder[0], 'my-dir\r'],
      [name[0], '\x03'],
    ])
    expect(code).toBe(1)
    expect(screen).toContain('Cancelled; nothing was written.')
    expect(readdirSync(cwd)).toEqual([])
  })
})
