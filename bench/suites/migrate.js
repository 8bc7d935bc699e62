// `backendkit migrate up` of 50 TypeScript migrations on an empty database vs a bare kysely
// Migrator script doing the same (run with tsx, as a kysely project would), same run, medians.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { adminDatabaseUrl, adminSql, median } from '../lib.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const bin = path.join(repo, 'bin/backendkit.js')
const tsx = path.join(repo, 'node_modules/tsx/dist/cli.mjs')
const ROUNDS = 7
const COUNT = 50

const bareScript = `
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { Kysely, PostgresDialect } from 'kysely'
import { FileMigrationProvider, Migrator } from 'kysely/migration'
import pg from 'pg'
const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }) })
const migrator = new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder: path.resolve('src/db/migrations') }) })
const { error } = await migrator.migrateToLatest()
await db.destroy()
if (error) { console.error(error); process.exit(1) }
`

function time(command, args, cwd, env) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

export const description = `migrate up of ${COUNT} TypeScript migrations from empty: backendkit vs a bare kysely Migrator script (tsx)`

export async function run() {
  const root = mkdtempSync(path.join(tmpdir(), 'bk-bench-migrate-'))
  const dir = path.join(root, 'src/db/migrations')
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(root, 'package.json'), '{"type":"module"}')
  writeFileSync(path.join(root, 'backendkit.json'), '{"name":"bench"}')
  symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  writeFileSync(path.join(root, 'bare.ts'), bareScript)
  for (let i = 0; i < COUNT; i++) {
    const name = `2024010100${String(i).padStart(4, '0')}_table_${i}`
    writeFileSync(
      path.join(dir, `${name}.ts`),
      `import type { Kysely } from 'kysely'
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('t_${i}').addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('name', 'text').execute()
}
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('t_${i}').execute()
}
`,
    )
  }
  const database = `bench_migrate_${process.pid}`
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${database}`
  const fresh = () =>
    adminSql(`drop database if exists ${database} with (force)`).then(() =>
      adminSql(`create database ${database}`),
    )
  const samples = { backendkit: [], bare: [] }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await fresh()
      samples.backendkit.push(
        time(process.execPath, [bin, 'migrate', 'up'], root, { DATABASE_URL: url.href }),
      )
      await fresh()
      samples.bare.push(time(process.execPath, [tsx, 'bare.ts'], root, { DATABASE_URL: url.href }))
    }
  } finally {
    await adminSql(`drop database if exists ${database} with (force)`)
    rmSync(root, { recursive: true, force: true })
  }
  const backendkit = Math.round(median(samples.backendkit.slice(1)))
  const bare = Math.round(median(samples.bare.slice(1)))
  return {
    migrations: COUNT,
    backendkitMs: backendkit,
    bareKyselyMs: bare,
    ratio: Math.round((backendkit / bare) * 100) / 100,
    target: '<= 1.3x',
  }
}

export function summary(r) {
  return [
    `backendkit migrate up   ${r.backendkitMs} ms`,
    `bare kysely Migrator    ${r.bareKyselyMs} ms`,
    `ratio ${r.ratio}x (target ${r.target}; kysely-ctl 2.46x)`,
  ].join('\n')
}
