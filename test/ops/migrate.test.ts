import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { runBin, runCli } from '../support/cli.js'
import { makeProject, tableMigration } from '../support/project.js'
import { queryDatabase, useTestDatabase } from '../support/services.js'
import { hasScript, typeAtPrompts } from '../support/terminal.js'

const db = useTestDatabase('migrate')

function schemaDump(): string {
  return execFileSync('pg_dump', ['--schema-only', '--no-owner', db.url], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
    .join('\n')
}

async function tables(): Promise<string[]> {
  const rows = await queryDatabase<{ tablename: string }>(
    db.url,
    `select tablename from pg_tables where schemaname = 'public' order by tablename`,
  )
  return rows.map((row) => row.tablename)
}

async function reset(): Promise<void> {
  await queryDatabase(db.url, 'drop schema public cascade; create schema public')
}

function migrate(root: string, ...args: string[]) {
  return runCli(['migrate', ...args], { cwd: root, env: { DATABASE_URL: db.url } })
}

/** Three migrations: a, b, c (each creates a table). */
function threeMigrations() {
  const project = makeProject()
  project.write('20240101000000_a.ts', tableMigration('table_a'))
  project.write('20240102000000_b.ts', tableMigration('table_b'))
  project.write('20240103000000_c.ts', tableMigration('table_c'))
  return project
}

describe('backendkit migrate (real PostgreSQL)', () => {
  it('status lists pending migrations; --check exits 1 while any is pending', async () => {
    await reset()
    const { root } = threeMigrations()
    const status = await migrate(root, 'status', '--json')
    expect(status.code).toBe(0)
    const data = JSON.parse(status.stdout)
    expect(data).toMatchObject({ applied: 0, pending: 3, missing: 0 })
    expect(data.migrations.map((m: { status: string }) => m.status)).toEqual([
      'pending',
      'pending',
      'pending',
    ])
    expect((await migrate(root, 'status', '--check')).code).toBe(1)
    // status reads only: it created nothing
    expect(await tables()).toEqual([])
  })

  it('up applies every pending migration as one batch; down reverts the last batch only', async () => {
    await reset()
    const project = threeMigrations()
    const up = await migrate(project.root, 'up')
    expect(up.code).toBe(0)
    expect(up.stdout).toContain('Applied 3 migrations')
    expect(up.stdout).toContain('as batch 1')
    expect(await tables()).toEqual(expect.arrayContaining(['table_a', 'table_b', 'table_c']))

    project.write('20240104000000_d.ts', tableMigration('table_d'))
    project.write('20240105000000_e.ts', tableMigration('table_e'))
    const second = JSON.parse((await migrate(project.root, 'up', '--json')).stdout)
    expect(second).toMatchObject({ ok: true, batch: 2, direction: 'up' })
    expect(
      second.migrations.map((m: { name: string; status: string }) => [m.name, m.status]),
    ).toEqual([
      ['20240104000000_d', 'applied'],
      ['20240105000000_e', 'applied'],
    ])

    const status = JSON.parse((await migrate(project.root, 'status', '--json')).stdout)
    expect(status.migrations.map((m: { batch: number }) => m.batch)).toEqual([1, 1, 1, 2, 2])
    expect(
      status.migrations.every((m: { appliedAt: string }) => !Number.isNaN(Date.parse(m.appliedAt))),
    ).toBe(true)
    expect((await migrate(project.root, 'status', '--check')).code).toBe(0)

    const down = await migrate(project.root, 'down', '--yes')
    expect(down.code).toBe(0)
    expect(down.stdout).toContain('Reverted 2 migrations')
    expect(await tables()).not.toContain('table_d')
    expect(await tables()).toContain('table_c')
    const again = JSON.parse((await migrate(project.root, 'down', '--yes', '--json')).stdout)
    expect(again.migrations.map((m: { name: string }) => m.name)).toEqual([
      '20240103000000_c',
      '20240102000000_b',
      '20240101000000_a',
    ])
    expect((await tables()).filter((t) => t.startsWith('table_'))).toEqual([])
    expect((await migrate(project.root, 'down', '--yes')).stdout).toContain('Nothing to revert')
  })

  it('up --step and --to apply part of the pending list; down --step, --to and --all revert', async () => {
    await reset()
    const { root } = threeMigrations()
    expect((await migrate(root, 'up', '--step', '1')).stdout).toContain('Applied 1 migration ')
    expect((await migrate(root, 'up', '--to', '20240102000000_b')).stdout).toContain(
      '20240102000000_b',
    )
    let status = JSON.parse((await migrate(root, 'status', '--json')).stdout)
    expect(status).toMatchObject({ applied: 2, pending: 1 })
    expect((await migrate(root, 'up', '--to', 'nope')).code).toBe(2)
    expect((await migrate(root, 'up', '--step', '1', '--to', '20240103000000_c')).code).toBe(2)
    await migrate(root, 'up')
    expect((await migrate(root, 'down', '--yes', '--to', '20240101000000_a')).code).toBe(0)
    status = JSON.parse((await migrate(root, 'status', '--json')).stdout)
    expect(status).toMatchObject({ applied: 1, pending: 2 })
    await migrate(root, 'up')
    expect(
      JSON.parse((await migrate(root, 'down', '--yes', '--step', '2', '--json')).stdout).migrations,
    ).toHaveLength(2)
    expect(
      JSON.parse((await migrate(root, 'down', '--yes', '--all', '--json')).stdout).migrations,
    ).toHaveLength(1)
    expect(JSON.parse((await migrate(root, 'status', '--json')).stdout)).toMatchObject({
      applied: 0,
    })
  })

  it('--dry-run prints the SQL it ran, rolls back and leaves the schema exactly as it was', async () => {
    await reset()
    const { root } = threeMigrations()
    const before = schemaDump()
    const dry = await migrate(root, 'up', '--dry-run')
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('create table "table_a"')
    expect(dry.stdout).toContain('rolled back; nothing was changed')
    expect(schemaDump()).toBe(before)

    await migrate(root, 'up')
    const applied = schemaDump()
    const dryDown = await migrate(root, 'down', '--dry-run')
    expect(dryDown.code).toBe(0)
    expect(dryDown.stdout).toContain('drop table "table_c"')
    expect(schemaDump()).toBe(applied)
  })

  it('a failing migration exits 1, reports each migration, and leaves schema and history untouched', async () => {
    await reset()
    const project = threeMigrations()
    await migrate(project.root, 'up', '--step', '1')
    project.write(
      '20240104000000_broken.ts',
      tableMigration('table_x', 'await sql`select * from no_such_table`.execute(db)'),
    )
    const before = schemaDump()
    const history = await queryDatabase(db.url, 'select * from kysely_migration order by name')
    const result = await migrate(project.root, 'up', '--json')
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout)
    expect(report.ok).toBe(false)
    expect(
      report.migrations.map((m: { name: string; status: string }) => [m.name, m.status]),
    ).toEqual([
      ['20240102000000_b', 'rolled back'],
      ['20240103000000_c', 'rolled back'],
      ['20240104000000_broken', 'failed'],
    ])
    expect(report.migrations[2].error).toContain('relation "no_such_table" does not exist')
    expect(schemaDump()).toBe(before)
    expect(await queryDatabase(db.url, 'select * from kysely_migration order by name')).toEqual(
      history,
    )

    const human = await migrate(project.root, 'up')
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(
      /✖ 20240104000000_broken\s+failed: relation "no_such_table" does not exist/,
    )
    expect(human.stdout).toContain('nothing was changed')
  })

  it('a migration that does not load fails before any SQL runs', async () => {
    await reset()
    const project = makeProject()
    project.write('20240101000000_a.ts', tableMigration('table_a'))
    project.write(
      '20240102000000_syntax.ts',
      'export async function up(db) { this is not typescript }',
    )
    const result = await migrate(project.root, 'up')
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/20240102000000_syntax\s+failed: Cannot load migration/)
    expect(await tables()).toEqual([])
  })

  it('down without --yes and without a TTY exits 2 and changes nothing', async () => {
    await reset()
    const { root } = threeMigrations()
    await migrate(root, 'up')
    const before = schemaDump()
    const result = await migrate(root, 'down')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Refusing to revert 3 migrations')
    expect(result.stderr).toContain('--yes')
    expect(schemaDump()).toBe(before)
    // CI=true with a TTY still never prompts
    const ci = await runCli(['migrate', 'down'], {
      cwd: root,
      env: { DATABASE_URL: db.url, CI: 'true' },
      tty: true,
    })
    expect(ci.code).toBe(2)
  })

  it('down asks through the injected prompt: no changes nothing (exit 1), yes reverts; no credential in the question', async () => {
    await reset()
    const { root } = threeMigrations()
    await migrate(root, 'up')
    const before = schemaDump()
    // trust auth ignores the passwords; the CLI must still hide them
    const url = `${db.urlWithPassword('Us3r-secret')}?password=Qu3ry-secret&sslpassword=Ss1-secret`
    const ask = (answer: boolean, ...flags: string[]) =>
      runCli(['migrate', 'down', ...flags, '--database-url', url], {
        cwd: root,
        tty: true,
        answers: [answer],
      })
    const refused = await ask(false, '--debug')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('Cancelled; nothing was changed.')
    expect(refused.prompts).toEqual([expect.stringMatching(/^Revert 3 migrations .* on postgres:/)])
    expect(schemaDump()).toBe(before)
    const accepted = await ask(true)
    expect(accepted.code).toBe(0)
    expect(accepted.stdout).toContain('Reverted 3 migrations')
    expect((await tables()).filter((t) => t.startsWith('table_'))).toEqual([])
    // --json never prompts: without --yes it refuses, echoing the target masked
    await migrate(root, 'up')
    const json = await runCli(['migrate', 'down', '--json', '--database-url', url], {
      cwd: root,
      tty: true,
    })
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout).error.message).toContain('password=***')
    for (const run of [refused, accepted, json]) {
      const output = [run.stdout, run.stderr, ...run.prompts].join('\n')
      for (const secret of ['Us3r-secret', 'Qu3ry-secret', 'Ss1-secret']) {
        expect(output).not.toContain(secret)
      }
    }
  })

  it.skipIf(!hasScript)(
    'down on a terminal asks first: no keeps everything, yes reverts',
    async () => {
      await reset()
      const { root } = threeMigrations()
      await migrate(root, 'up')
      const before = schemaDump()
      const env = { DATABASE_URL: db.url }
      const refused = await typeAtPrompts(
        root,
        ['migrate', 'down'],
        [['Revert 3 migrations', 'n\r']],
        env,
      )
      expect(refused.code).toBe(1)
      expect(refused.screen).toContain('Cancelled; nothing was changed.')
      expect(schemaDump()).toBe(before)
      const accepted = await typeAtPrompts(
        root,
        ['migrate', 'down'],
        [['Revert 3 migrations', 'y\r']],
        env,
      )
      expect(accepted.code, accepted.screen).toBe(0)
      expect(accepted.screen).toContain('Reverted 3 migrations')
      expect((await tables()).filter((t) => t.startsWith('table_'))).toEqual([])
    },
  )

  it('5 concurrent `migrate up` processes apply each migration exactly once', async () => {
    await reset()
    const project = makeProject()
    await queryDatabase(db.url, 'create table applied_log (name text not null)')
    for (let i = 1; i <= 8; i++) {
      const name = `2024010${i}000000_m${i}`
      project.write(
        `${name}.ts`,
        tableMigration(
          `t${i}`,
          `await sql\`insert into applied_log values ('${name}')\`.execute(db); await sql\`select pg_sleep(0.05)\`.execute(db)`,
        ),
      )
    }
    const runs = await Promise.all(
      Array.from({ length: 5 }, () =>
        runBin(['migrate', 'up', '--json'], { cwd: project.root, env: { DATABASE_URL: db.url } }),
      ),
    )
    for (const run of runs) expect(run.code, run.stderr).toBe(0)
    const applied = runs.flatMap((run) =>
      JSON.parse(run.stdout).migrations.map((m: { name: string }) => m.name),
    )
    expect(applied.sort()).toHaveLength(8)
    expect(new Set(applied).size).toBe(8)
    const log = await queryDatabase<{ name: string; n: number }>(
      db.url,
      'select name, count(*)::int as n from applied_log group by name',
    )
    expect(log).toHaveLength(8)
    expect(log.every((row) => row.n === 1)).toBe(true)
  })

  it('a run that finds the lock held waits, says who holds it, then proceeds; unlock releases a hung holder', async () => {
    await reset()
    const { root } = threeMigrations()
    expect((await migrate(root, 'unlock')).stdout).toContain('No migration lock is held')

    const holder = new pg.Client({ connectionString: db.url, application_name: 'stuck-deploy' })
    await holder.connect()
    holder.on('error', () => {})
    await holder.query('select pg_advisory_lock(3853314791062309107)')
    try {
      const waiting = runBin(['migrate', 'up'], { cwd: root, env: { DATABASE_URL: db.url } })
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      expect(await tables()).toEqual([])

      const refused = await migrate(root, 'unlock')
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain('stuck-deploy')

      const unlock = await migrate(root, 'unlock', '--yes')
      expect(unlock.code).toBe(0)
      expect(unlock.stdout).toMatch(/Terminated pid \d+ \(stuck-deploy/)
      const result = await waiting
      expect(result.code).toBe(0)
      expect(result.stderr).toMatch(/Waiting for the migration lock held by pid \d+ \(stuck-deploy/)
      expect(await tables()).toEqual(expect.arrayContaining(['table_a', 'table_b', 'table_c']))
    } finally {
      await holder.end().catch(() => {})
    }
  })

  it('refuses a pending migration that sorts before an applied one, and reports missing files', async () => {
    await reset()
    const project = threeMigrations()
    await migrate(project.root, 'up')
    project.write('20230101000000_late.ts', tableMigration('late'))
    const result = await migrate(project.root, 'up')
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      'Pending migration 20230101000000_late sorts before the applied 20240103000000_c',
    )
    rmSync(path.join(project.migrations, '20230101000000_late.ts'))

    rmSync(path.join(project.migrations, '20240103000000_c.ts'))
    const status = await migrate(project.root, 'status', '--check', '--json')
    expect(status.code).toBe(1)
    expect(JSON.parse(status.stdout)).toMatchObject({ missing: 1 })
    expect((await migrate(project.root, 'down', '--yes')).stderr).toContain(
      'Applied migration 20240103000000_c has no file',
    )
  })

  it('loads .js migrations natively and honours --migrations and backendkit.json migrations.dir', async () => {
    await reset()
    const project = makeProject({ name: 'demo', migrations: { dir: 'db/migrations' } })
    const dir = path.join(project.root, 'db/migrations')
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      path.join(dir, '20240101000000_js.js'),
      "export async function up(db) { await db.schema.createTable('from_js').addColumn('id', 'integer').execute() }\nexport async function down(db) { await db.schema.dropTable('from_js').execute() }\n",
    )
    expect((await migrate(project.root, 'up')).code).toBe(0)
    expect(await tables()).toContain('from_js')
    // --migrations is relative to where the user stands
    const other = await runCli(
      ['migrate', 'status', '--migrations', 'src/db/migrations', '--json'],
      {
        cwd: project.root,
        env: { DATABASE_URL: db.url },
      },
    )
    expect(JSON.parse(other.stdout)).toMatchObject({ missing: 1 })
  })

  it('make writes a timestamped file from the template and never overwrites', async () => {
    const project = makeProject()
    const result = await migrate(project.root, 'make', 'Add users email index')
    expect(result.code).toBe(0)
    const [file] = readdirSync(project.migrations)
    expect(file).toMatch(/^\d{14}_add_users_email_index\.ts$/)
    const source = readFileSync(path.join(project.migrations, file!), 'utf8')
    expect(source).toContain('export async function up(db: Kysely<any>)')
    expect(source).toContain('export async function down(db: Kysely<any>)')
    expect((await migrate(project.root, 'make', '!!!')).code).toBe(2)

    const custom = makeProject({ name: 'demo', migrations: { template: 'migration.template.ts' } })
    writeFileSync(
      path.join(custom.root, 'migration.template.ts'),
      '// {{name}}\nexport async function up() {}\n',
    )
    const made = JSON.parse((await migrate(custom.root, 'make', 'seed', '--json')).stdout)
    expect(readFileSync(made.file, 'utf8')).toBe(`// ${made.name}\nexport async function up() {}\n`)
    expect(existsSync(made.file)).toBe(true)
  })
})
