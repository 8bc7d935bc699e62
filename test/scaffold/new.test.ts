import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { renderTemplateDir } from '../../src/scaffold/render.js'
import { writeProject } from '../../src/scaffold/write.js'
import { binPath, runCli } from '../support/cli.js'

const temp = () => mkdtempSync(path.join(tmpdir(), 'bk-new-'))

/** Every file under dir with its content, to prove a folder was left exactly as it was. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name)
      if (entry.isDirectory()) walk(child)
      else out[child] = readFileSync(path.join(dir, child), 'utf8')
    }
  }
  walk('')
  return out
}

const newProject = (cwd: string, ...args: string[]) =>
  runCli(['new', ...args, '--no-install', '--no-git'], { cwd })

describe('backendkit new', () => {
  it('writes a project: dotfiles renamed, backendkit.json valid, checksums recorded', async () => {
    const cwd = temp()
    const result = await newProject(cwd, 'my-api')
    expect(result.code, result.stderr).toBe(0)
    const root = path.join(cwd, 'my-api')
    expect(existsSync(path.join(root, '.gitignore'))).toBe(true)
    expect(existsSync(path.join(root, '_gitignore'))).toBe(false)
    const config = JSON.parse(readFileSync(path.join(root, 'backendkit.json'), 'utf8'))
    expect(config).toMatchObject({
      name: 'my-api',
      redis: { keyPrefix: 'my-api:' },
      health: { ready: '/health/ready' },
    })
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
    expect(pkg).toMatchObject({ name: 'my-api', type: 'module', engines: { node: '>=22.12' } })
    expect(Object.keys(pkg.scripts)).toEqual(
      expect.arrayContaining(['dev', 'build', 'start', 'test', 'typecheck', 'lint']),
    )
    const sums = JSON.parse(
      readFileSync(path.join(root, '.backendkit/checksums.json'), 'utf8'),
    ).files
    expect(Object.keys(sums)).toContain('src/app.ts')
    expect(readFileSync(path.join(root, '.nvmrc'), 'utf8').trim()).toBe('24')
    expect(result.stdout).toContain('Next steps')
    // the staging folder is gone
    expect(readdirSync(cwd)).toEqual(['my-api'])
  })

  it('pins backendkit as a devDependency: from a checkout, the packed checkout in vendor/', async () => {
    const cwd = temp()
    const result = await newProject(cwd, 'svc', '--recipes', 'core')
    expect(result.code, result.stderr).toBe(0)
    const root = path.join(cwd, 'svc')
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
    expect(pkg.devDependencies.backendkit).toBe('file:vendor/backendkit-0.1.0.tgz')
    expect(pkg.dependencies.backendkit).toBeUndefined()
    const listing = execFileSync('tar', ['tzf', path.join(root, 'vendor/backendkit-0.1.0.tgz')], {
      encoding: 'utf8',
    }).split('\n')
    expect(listing).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/bin/backendkit.js',
        'package/dist/cli.js',
      ]),
    )
    expect(listing.filter((file) => file.startsWith('package/src/'))).toEqual([])
    // The same checkout packs to the same bytes: regenerating does not change the lock file.
    const again = temp()
    await newProject(again, 'svc', '--recipes', 'core')
    expect(readFileSync(path.join(again, 'svc/vendor/backendkit-0.1.0.tgz'))).toEqual(
      readFileSync(path.join(root, 'vendor/backendkit-0.1.0.tgz')),
    )
  })

  it('files are readable by all; generated files are not executable', async () => {
    const cwd = temp()
    await newProject(cwd, 'x')
    for (const file of Object.keys(snapshot(path.join(cwd, 'x')))) {
      const mode = statSync(path.join(cwd, 'x', file)).mode & 0o777
      expect(mode, file).toBe(0o644)
    }
  })

  it('keeps the executable bit and renders .hbs templates, renaming _dotfiles', () => {
    const templates = temp()
    mkdirSync(path.join(templates, 'bin'))
    writeFileSync(path.join(templates, 'bin/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 })
    writeFileSync(path.join(templates, '_npmrc.hbs'), 'name={{name}}\n')
    const rendered = renderTemplateDir(templates, { name: 'demo' })
    const target = path.join(temp(), 'out')
    writeProject(
      target,
      rendered.map((file) => ({ ...file, recipe: 'core' as const })),
    )
    expect(statSync(path.join(target, 'bin/run.sh')).mode & 0o777).toBe(0o755)
    expect(readFileSync(path.join(target, '.npmrc'), 'utf8')).toBe('name=demo\n')
  })

  it('refuses a non-empty folder (exit 2) and leaves it exactly as it was', async () => {
    const cwd = temp()
    const target = path.join(cwd, 'existing')
    mkdirSync(path.join(target, 'src'), { recursive: true })
    writeFileSync(path.join(target, 'README.md'), 'mine')
    writeFileSync(path.join(target, 'src/app.ts'), 'my app')
    const before = snapshot(target)
    const result = await newProject(cwd, 'existing')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('is not empty')
    expect(result.stderr).toContain('--force')
    expect(snapshot(target)).toEqual(before)
    expect(readdirSync(cwd)).toEqual(['existing'])
  })

  it('--force writes around existing files and never overwrites one', async () => {
    const cwd = temp()
    const target = path.join(cwd, 'existing')
    mkdirSync(path.join(target, 'src'), { recursive: true })
    writeFileSync(path.join(target, 'README.md'), 'mine')
    writeFileSync(path.join(target, 'src/app.ts'), 'my app')
    const result = await runCli(
      ['new', 'existing', '--force', '--no-install', '--no-git', '--json'],
      { cwd },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(readFileSync(path.join(target, 'README.md'), 'utf8')).toBe('mine')
    expect(readFileSync(path.join(target, 'src/app.ts'), 'utf8')).toBe('my app')
    expect(existsSync(path.join(target, 'src/server.ts'))).toBe(true)
    const kept = JSON.parse(result.stdout).files.filter(
      (f: { status: string }) => f.status === 'keep',
    )
    expect(kept.map((f: { path: string }) => f.path).sort()).toEqual(['README.md', 'src/app.ts'])
    // the checksums describe only what backendkit wrote
    const sums = JSON.parse(
      readFileSync(path.join(target, '.backendkit/checksums.json'), 'utf8'),
    ).files
    expect(sums['src/app.ts']).toBeUndefined()
    expect(sums['src/server.ts']).toBeDefined()
  })

  it('--dry-run prints the plan and writes nothing', async () => {
    const cwd = temp()
    const result = await newProject(cwd, 'planned', '--dry-run')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('src/app.ts')
    expect(result.stdout).toContain('express@')
    expect(result.stdout).toContain('Dry run: nothing was written.')
    expect(readdirSync(cwd)).toEqual([])
  })

  it.each([
    [['x', '--recipes', 'nope'], /Unknown recipe "nope"/],
    [['x', '--name', 'Bad Name'], /not a valid npm package name/],
    [['x', '--recipes', 'core', '--without', 'core'], /cannot be combined/],
    [['x', '--pm', 'bun'], /argument 'bun' is invalid/],
  ])('%j is a usage error that writes nothing', async (args, message) => {
    const cwd = temp()
    const result = await newProject(cwd, ...args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(readdirSync(cwd)).toEqual([])
  })

  it('names the package after the folder, or --name', async () => {
    const cwd = temp()
    const result = await runCli(
      ['new', 'Some Folder', '--no-install', '--no-git', '--json', '--dry-run'],
      { cwd },
    )
    expect(JSON.parse(result.stdout).name).toBe('some-folder')
    const named = await runCli(
      ['new', 'f', '--name', '@acme/api', '--no-install', '--no-git', '--json', '--dry-run'],
      { cwd },
    )
    expect(JSON.parse(named.stdout).name).toBe('@acme/api')
  })

  it('lists recipes, also as JSON', async () => {
    const result = await runCli(['recipes', '--json'])
    expect(result.code).toBe(0)
    const list = JSON.parse(result.stdout)
    expect(list[0]).toMatchObject({ name: 'core', summary: expect.any(String), requires: [] })
    expect((await runCli(['recipes'])).stdout).toMatch(/^RECIPE\s+SUMMARY/)
  })
})

describe('backendkit new: what to do next', () => {
  it('with a database, the next steps migrate and seed before the first `npm run dev`', async () => {
    const cwd = temp()
    const result = await newProject(cwd, 'svc', '--recipes', 'database', '--json')
    expect(result.code, result.stderr).toBe(0)
    const steps: string[] = JSON.parse(result.stdout).nextSteps
    const at = (needle: string) => steps.findIndex((step) => step.includes(needle))
    expect(at('migrate up')).toBeGreaterThan(at('cp .env.example .env'))
    expect(at('npm run db:seed')).toBeGreaterThan(at('migrate up'))
    expect(at('npm run dev')).toBeGreaterThan(at('npm run db:seed'))
    // The project's own backendkit: a devDependency pinned to the version that generated it.
    expect(steps[at('migrate up')]).toMatch(/^npx backendkit migrate up/)
    const text = await newProject(temp(), 'svc', '--recipes', 'database')
    expect(text.stdout).toContain('migrate up')
  })

  it('without a database there is nothing to migrate', async () => {
    const result = await newProject(temp(), 'svc', '--recipes', 'core', '--json')
    expect(JSON.parse(result.stdout).nextSteps.join('\n')).not.toContain('migrate')
  })

  it('warns that auth without rate-limit leaves login without a brute-force limit', async () => {
    const bare = await newProject(temp(), 'svc', '--recipes', 'auth', '--json')
    expect(bare.code).toBe(0)
    expect(bare.stderr).toMatch(/warning: auth without rate-limit/)
    expect(JSON.parse(bare.stdout).warnings).toEqual([expect.stringMatching(/brute-force/)])
    const complete = await newProject(temp(), 'svc', '--json')
    expect(complete.stderr).not.toMatch(/warning/)
    expect(JSON.parse(complete.stdout).warnings).toEqual([])
  })
})

describe('backendkit new: installing and git', () => {
  it('an install failure keeps the project and prints the exact command to retry (exit 1)', async () => {
    const fakeBin = mkdtempSync(path.join(tmpdir(), 'bk-fakebin-'))
    writeFileSync(
      path.join(fakeBin, 'npm'),
      '#!/bin/sh\necho "npm ERR! network unreachable" >&2\nexit 1\n',
    )
    chmodSync(path.join(fakeBin, 'npm'), 0o755)
    const cwd = temp()
    const result = await runCli(['new', 'svc', '--yes', '--no-git'], {
      cwd,
      env: { PATH: `${fakeBin}:${process.env.PATH}` },
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('npm ERR! network unreachable')
    expect(result.stderr).toMatch(/hint: The project is written; retry with: cd svc && npm install/)
    expect(existsSync(path.join(cwd, 'svc/src/app.ts'))).toBe(true)
  })

  it('creates a git repository with a first commit', async () => {
    const cwd = temp()
    const result = await runCli(['new', 'svc', '--yes', '--no-install', '--json'], {
      cwd,
      env: {
        GIT_AUTHOR_NAME: 'T',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 'T',
        GIT_COMMITTER_EMAIL: 't@example.com',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'user.email',
        GIT_CONFIG_VALUE_0: 't@example.com',
      },
    })
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout).git).toMatchObject({ ok: true })
    const log = execFileSync('git', ['log', '--oneline'], {
      cwd: path.join(cwd, 'svc'),
      encoding: 'utf8',
    })
    expect(log).toContain('Initial commit from backendkit')
    const status = execFileSync('git', ['status', '--porcelain'], {
      cwd: path.join(cwd, 'svc'),
      encoding: 'utf8',
    })
    expect(status).toBe('')
  })
})

describe('backendkit new: a place it cannot write', () => {
  it.skipIf(process.getuid?.() !== 0)('says so in two lines (exit 1), not as a bug', async () => {
    const parent = path.join(temp(), 'locked')
    mkdirSync(parent)
    chmodSync(parent, 0o555)
    chmodSync(path.dirname(parent), 0o755)
    // root ignores permissions: run the bin as nobody
    const result = spawnSync(
      'su',
      [
        'nobody',
        '-s',
        '/bin/sh',
        '-c',
        `"${process.execPath}" "${binPath}" new "${parent}/x" --no-install --no-git`,
      ],
      { encoding: 'utf8' },
    )
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/^error: Cannot write the project to .*: permission denied$/m)
    expect(result.stderr).toMatch(/^hint: Choose a place you can write to/m)
    expect(result.stderr).not.toContain('bug')
  })
})
