import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { repoRoot, runBin } from '../support/cli.js'
import { queryDatabase, useTestDatabase } from '../support/services.js'

/**
 * Migrations in production run compiled, `node dist/db/migrate.js`, with no devDependency (no
 * tsx, no backendkit). They must keep the books `backendkit migrate` keeps: either can migrate a
 * database after the other, `migrate down` reverts exactly what the last run applied, and the two
 * at once apply each migration once.
 */

const sequential = useTestDatabase('prodmig')
const concurrent = useTestDatabase('prodmig_race')
let root: string

/** The compiled runner, as the migration Job and docker compose start it. */
function runCompiled(databaseUrl: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/db/migrate.js'], {
      cwd: root,
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code) => resolve({ code, output }))
  })
}

const backendkit = (databaseUrl: string, ...args: string[]) =>
  runBin([...args, '--json', '--yes'], { cwd: root, env: { DATABASE_URL: databaseUrl } })

function build(): void {
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' })
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0)
}

const batches = (url: string) =>
  queryDatabase<{ name: string; batch: number }>(
    url,
    'select name, batch from backendkit_migration_batch order by name',
  )

beforeAll(async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-prodmig-'))
  const result = await runBin(['new', 'svc', '--recipes', 'rest', '--no-install', '--no-git'], {
    cwd,
  })
  expect(result.code, result.stderr).toBe(0)
  root = path.join(cwd, 'svc')
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  build()
}, 120_000)

describe('migrations compiled with the service', () => {
  it('keep the same books as backendkit migrate, in either order', {
    timeout: 120_000,
  }, async () => {
    const first = await runCompiled(sequential.url)
    expect(first.code, first.output).toBe(0)
    const status = await backendkit(sequential.url, 'migrate', 'status')
    expect(status.code, status.stderr).toBe(0)
    const applied = JSON.parse(status.stdout)
    expect(applied).toMatchObject({ applied: 2, pending: 0, missing: 0 })
    expect(applied.migrations.map((m: { batch: number }) => m.batch)).toEqual([1, 1])
    expect((await backendkit(sequential.url, 'migrate', 'status', '--check')).code).toBe(0)
    // Nothing pending: a second run changes nothing.
    expect((await runCompiled(sequential.url)).code).toBe(0)
    expect(await batches(sequential.url)).toHaveLength(2)

    // A new migration, applied by backendkit (batch 2): the compiled runner finds nothing to do.
    writeFileSync(
      path.join(root, 'src/db/migrations/20300101000000_add_notes.ts'),
      `import type { Kysely } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('notes').addColumn('id', 'serial', (col) => col.primaryKey()).execute()
}

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema version
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notes').execute()
}
`,
    )
    build()
    const up = await backendkit(sequential.url, 'migrate', 'up')
    expect(JSON.parse(up.stdout)).toMatchObject({ ok: true, batch: 2 })
    expect((await runCompiled(sequential.url)).output).toContain('every migration is applied')

    // Reverted by backendkit, applied again by the compiled runner as its own batch: what
    // `migrate down` reverts next is exactly that batch, not the tables of batch 1.
    expect(JSON.parse((await backendkit(sequential.url, 'migrate', 'down')).stdout)).toMatchObject({
      ok: true,
      migrations: [{ name: '20300101000000_add_notes', status: 'reverted' }],
    })
    const again = await runCompiled(sequential.url)
    expect(again.output).toMatch(/applied 1 as batch 2/)
    expect(await batches(sequential.url)).toContainEqual({
      name: '20300101000000_add_notes',
      batch: 2,
    })
    const down = JSON.parse((await backendkit(sequential.url, 'migrate', 'down')).stdout)
    expect(down.migrations.map((m: { name: string }) => m.name)).toEqual([
      '20300101000000_add_notes',
    ])
    const tables = await queryDatabase<{ t: string | null }>(
      sequential.url,
      "select to_regclass('users')::text as t",
    )
    expect(tables).toEqual([{ t: 'users' }])
  })

  it('run beside backendkit migrate up at the same moment, each migration applies once', {
    timeout: 60_000,
  }, async () => {
    const [compiled, cli] = await Promise.all([
      runCompiled(concurrent.url),
      backendkit(concurrent.url, 'migrate', 'up'),
    ])
    expect(compiled.code, compiled.output).toBe(0)
    expect(cli.code, cli.stderr).toBe(0)
    const rows = await batches(concurrent.url)
    expect(rows.map((r) => r.name)).toEqual([
      '20260101000000_users_and_refresh_tokens',
      '20260101000100_posts_and_comments',
      '20300101000000_add_notes',
    ])
    // Whoever took the lock first applied everything, as one batch.
    expect(new Set(rows.map((r) => r.batch))).toEqual(new Set([1]))
  })
})
