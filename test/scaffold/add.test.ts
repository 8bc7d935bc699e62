import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, runCli } from '../support/cli.js'

async function coreProject(): Promise<string> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-add-'))
  const result = await runCli(['new', 'svc', '--recipes', 'core', '--no-install', '--no-git'], {
    cwd,
  })
  expect(result.code, result.stderr).toBe(0)
  return path.join(cwd, 'svc')
}

const read = (root: string, file: string) => readFileSync(path.join(root, file), 'utf8')

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name)
      if (entry.isDirectory()) walk(child)
      else out[child] = read(root, child)
    }
  }
  walk('')
  return out
}

describe('backendkit add', () => {
  it("dates a recipe's migrations after the project's own, so they never sort before applied ones", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-add-'))
    const made = await runCli(['new', 'svc', '--recipes', 'auth', '--no-install', '--no-git'], {
      cwd,
    })
    expect(made.code, made.stderr).toBe(0)
    const root = path.join(cwd, 'svc')
    const migrations = path.join(root, 'src/db/migrations')
    writeFileSync(path.join(migrations, '20261001120000_my_own_table.ts'), 'export {}\n')
    const result = await runCli(['add', 'rest', '--json'], { cwd: root })
    expect(result.code, result.stderr).toBe(0)
    const names = readdirSync(migrations)
      .filter((f) => f.endsWith('.ts'))
      .sort()
    expect(names[0]).toBe('20260101000000_users_and_refresh_tokens.ts') // there already
    expect(names[1]).toBe('20261001120000_my_own_table.ts')
    expect(names[2]).toMatch(/^\d{14}_posts_and_comments\.ts$/) // after the project's own
    const entry = JSON.parse(result.stdout).entries.find((e: { path: string }) =>
      e.path.endsWith('_posts_and_comments.ts'),
    )
    expect(entry).toMatchObject({ action: 'create', note: expect.stringMatching(/dated now/) })
    // Recorded under the name it has in the project, so a later `add` sees it as backendkit's.
    const sums = JSON.parse(read(root, '.backendkit/checksums.json')).files
    expect(Object.keys(sums)).toContain(`src/db/migrations/${names[2]}`)
  })

  it('adds deploy files that fit how the project has backendkit, and never changes that pin', async () => {
    const root = await coreProject()
    const result = await runCli(['add', 'deploy'], { cwd: root })
    expect(result.code, result.stderr).toBe(0)
    // Generated from a checkout: the image's build stage needs the packed backendkit.
    expect(read(root, 'Dockerfile')).toContain('COPY vendor/backendkit-0.1.0.tgz')
    expect(JSON.parse(read(root, 'package.json')).devDependencies.backendkit).toBe(
      'file:vendor/backendkit-0.1.0.tgz',
    )

    const registry = await coreProject()
    const pkg = JSON.parse(read(registry, 'package.json'))
    pkg.devDependencies.backendkit = '0.1.0' // as if from the registry
    writeFileSync(path.join(registry, 'package.json'), JSON.stringify(pkg, null, 2))
    expect((await runCli(['add', 'deploy'], { cwd: registry })).code).toBe(0)
    expect(read(registry, 'Dockerfile')).not.toContain('vendor/')
    expect(JSON.parse(read(registry, 'package.json')).devDependencies.backendkit).toBe('0.1.0')
  })

  it('adds a recipe: its files, the module registry, merged package.json, .env.example and backendkit.json', async () => {
    const root = await coreProject()
    writeFileSync(
      path.join(root, '.env.example'),
      `${read(root, '.env.example')}# mine\nMY_VAR=1\n`,
    )
    const pkg = JSON.parse(read(root, 'package.json'))
    pkg.dependencies.express = '^5.0.0' // the user's own choice stays
    pkg.scripts.custom = 'echo mine'
    writeFileSync(path.join(root, 'package.json'), JSON.stringify(pkg, null, 2))

    const result = await runCli(['add', 'database', '--json'], { cwd: path.join(root, 'src') })
    expect(result.code, result.stderr).toBe(0)
    const data = JSON.parse(result.stdout)
    expect(data.adding).toEqual(['database'])
    const actions = Object.fromEntries(
      data.entries.map((e: { path: string; action: string }) => [e.path, e.action]),
    )
    expect(actions).toMatchObject({
      'src/db/module.ts': 'create',
      'src/modules.ts': 'update',
      'README.md': 'update',
      'package.json': 'merge',
      '.env.example': 'merge',
      'backendkit.json': 'merge',
    })

    expect(read(root, 'src/modules.ts')).toContain("import { database } from './db/module.js'")
    const merged = JSON.parse(read(root, 'package.json'))
    expect(merged.dependencies).toMatchObject({
      express: '^5.0.0',
      kysely: expect.any(String),
      pg: expect.any(String),
    })
    expect(merged.scripts).toMatchObject({ custom: 'echo mine', 'db:seed': expect.any(String) })
    const env = read(root, '.env.example')
    expect(env).toContain('MY_VAR=1')
    expect(env).toMatch(/# --- database ---\n# .*\nDATABASE_URL=/)
    expect(JSON.parse(read(root, 'backendkit.json')).recipes).toEqual(['database'])
    const sums = JSON.parse(read(root, '.backendkit/checksums.json')).files
    expect(sums['src/db/module.ts']).toMatch(/^sha256-/)

    // the result is a working project
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
    const typecheck = spawnSync('npm', ['run', 'typecheck'], { cwd: root, encoding: 'utf8' })
    expect(typecheck.status, typecheck.stdout + typecheck.stderr).toBe(0)

    // adding again changes nothing
    const again = await runCli(['add', 'database'], { cwd: root })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('Nothing to add')
  })

  it('never overwrites a file the user changed: reports the conflict, exits 1, writes nothing', async () => {
    const root = await coreProject()
    writeFileSync(
      path.join(root, 'src/modules.ts'),
      `${read(root, 'src/modules.ts')}// my change\n`,
    )
    const before = tree(root)
    const result = await runCli(['add', 'database'], { cwd: root })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/conflict\s+src\/modules\.ts.*you changed it/)
    expect(result.stderr).toContain('never overwrites your changes')
    expect(tree(root)).toEqual(before)
  })

  it('--dry-run shows the plan and writes nothing', async () => {
    const root = await coreProject()
    const before = tree(root)
    const result = await runCli(['add', 'database', '--dry-run'], { cwd: root })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/create\s+src\/db\/module\.ts/)
    expect(result.stdout).toContain('Dry run: nothing was written.')
    expect(tree(root)).toEqual(before)
  })

  it('is a usage error outside a project or for an unknown recipe', async () => {
    const outside = await runCli(['add', 'database'], {
      cwd: mkdtempSync(path.join(tmpdir(), 'bk-')),
    })
    expect(outside.code).toBe(2)
    expect(outside.stderr).toContain('Not a backendkit project')
    const root = await coreProject()
    const unknown = await runCli(['add', 'nope'], { cwd: root })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/Unknown recipe "nope"[\s\S]*Known recipes: core, database/)
  })
})
