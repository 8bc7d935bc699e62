import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasScript, type Step, typeAtPrompts } from '../support/terminal.js'

/** `new` on a real terminal, answered like a person (see support/terminal.ts). */
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
    const { code, screen } = await typeAtPrompts(
      cwd,
      ['new'],
      [[folder[0], 'shop-api\r'], name, recipes, manager, noInstall, noGit],
    )
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
    const { code, screen } = await typeAtPrompts(
      cwd,
      ['new'],
      [
        [folder[0], 'x\r'],
        [name[0], `${clear}Bad Name\r`],
        ['Not a valid npm package name', `${clear}good-name\r`],
        recipes,
        manager,
        noInstall,
        noGit,
      ],
    )
    expect(code, screen).toBe(0)
    expect(screen).toContain('Not a valid npm package name')
    expect(JSON.parse(readFileSync(path.join(cwd, 'x/backendkit.json'), 'utf8')).name).toBe(
      'good-name',
    )
  })

  it('Ctrl-C at a prompt cancels: exit 1, nothing written', { timeout: 30_000 }, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-tty-'))
    const { code, screen } = await typeAtPrompts(
      cwd,
      ['new'],
      [
        [folder[0], 'my-dir\r'],
        [name[0], '\x03'],
      ],
    )
    expect(code).toBe(1)
    expect(screen).toContain('Cancelled; nothing was written.')
    expect(readdirSync(cwd)).toEqual([])
  })
})
