import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { repoRoot } from './cli.js'

/**
 * A temp project with backendkit.json and a migrations folder; node_modules links to this repo's,
 * so migrations can import kysely as they would in a real project.
 */
export function makeProject(config: Record<string, unknown> = { name: 'demo' }): {
  root: string
  migrations: string
  write(name: string, source: string): string
} {
  const root = mkdtempSync(path.join(tmpdir(), 'bk-project-'))
  writeFileSync(path.join(root, 'backendkit.json'), JSON.stringify(config, null, 2))
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'demo', type: 'module' }))
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  const migrations = path.join(root, 'src/db/migrations')
  mkdirSync(migrations, { recursive: true })
  return {
    root,
    migrations,
    write(name, source) {
      const file = path.join(migrations, name)
      writeFileSync(file, source)
      return file
    },
  }
}

/** A TypeScript migration creating (and dropping) one table. */
export function tableMigration(table: string, extraUp = ''): string {
  return `import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('${table}').addColumn('id', 'serial', (col) => col.primaryKey()).execute()
  ${extraUp}
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('${table}').execute()
}
`
}
