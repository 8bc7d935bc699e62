import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { packFiles } from '../../src/scaffold/pack.js'
import { repoRoot } from '../support/cli.js'
import { useTestDatabase } from '../support/services.js'

const db = useTestDatabase('pack')

describe('the published package', () => {
  it('packs only what npx needs', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: repoRoot,
        encoding: 'utf8',
      }),
    ) as [{ files: { path: string }[] }]
    const files = pack.files.map((f) => f.path)
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/backendkit.js',
        'dist/cli.js',
        'dist/backendkit.schema.json',
        'templates/base/src/app.ts',
        'recipes/database/files/src/db/module.ts',
        'package.json',
        'README.md',
      ]),
    )
    // recipe manifests are compiled into dist/; their template files ship as they are
    const stray = files.filter((f) =>
      /^(src|test|bench|\.ci)\/|^(tsconfig|vitest|biome|esbuild)|^recipes\/[^/]+\/recipe\.ts$/.test(
        f,
      ),
    )
    expect(stray).toEqual([])
    // What `new` packs from a checkout (in-process, into a project's vendor/) is npm's list.
    expect(packFiles(repoRoot)).toEqual([...files].sort())
  })

  it('installs from the tarball into an empty project and runs there', { timeout: 300_000 }, () => {
    const work = mkdtempSync(path.join(tmpdir(), 'bk-pack-'))
    const output = execFileSync('npm', ['pack', '--pack-destination', work, '--ignore-scripts'], {
      cwd: repoRoot,
      encoding: 'utf8',
    })
    const tarball = path.join(work, output.trim().split('\n').at(-1)!)
    const consumer = path.join(work, 'consumer')
    mkdirSync(consumer)
    writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true }),
    )
    execFileSync(
      'npm',
      ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      {
        cwd: consumer,
        stdio: 'pipe',
      },
    )
    const bin = path.join(consumer, 'node_modules/.bin/backendkit')
    const help = spawnSync(process.execPath, [bin, '--help'], { cwd: consumer, encoding: 'utf8' })
    expect(help.status, help.stderr).toBe(0)
    expect(help.stdout).toContain('Usage: backendkit')

    // The runtime dependencies came along: a command that talks to PostgreSQL works from there.
    mkdirSync(path.join(consumer, 'src/db/migrations'), { recursive: true })
    const status = spawnSync(process.execPath, [bin, 'migrate', 'status', '--json'], {
      cwd: consumer,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, DATABASE_URL: db.url },
    })
    expect(status.status, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ applied: 0, pending: 0 })
  })
})
