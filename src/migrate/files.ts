import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Kysely } from 'kysely'
import { BackendkitError, errorMessage, usageError } from '../core/errors.js'

export interface MigrationFile {
  /** The file name without its extension: kysely's migration name. */
  name: string
  file: string
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are written against the user's schema
type MigrationFn = (db: Kysely<any>) => Promise<void>
export interface MigrationModule {
  up: MigrationFn
  down?: MigrationFn
}

const extensions = new Set(['.ts', '.mts', '.js', '.mjs'])
const typeScript = new Set(['.ts', '.mts'])

function isMigrationFile(file: string): boolean {
  if (/\.d\.m?ts$/.test(file) || file.startsWith('.') || file.startsWith('_')) return false
  return extensions.has(path.extname(file))
}

/** The migration files of a folder, sorted by name as kysely orders them. */
export function listMigrationFiles(dir: string): MigrationFile[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw usageError(
      `Migrations folder not found: ${dir}`,
      'Pass --migrations <dir>, or set migrations.dir in backendkit.json.',
      'E_NO_MIGRATIONS_DIR',
    )
  }
  const byName = new Map<string, MigrationFile>()
  for (const entry of readdirSync(dir).sort()) {
    if (!isMigrationFile(entry)) continue
    const name = entry.slice(0, -path.extname(entry).length)
    const existing = byName.get(name)
    if (existing) {
      throw usageError(
        `Two files define migration "${name}": ${path.basename(existing.file)} and ${entry}`,
        'Keep one of them.',
      )
    }
    byName.set(name, { name, file: path.join(dir, entry) })
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

let typeScriptLoader: Promise<unknown> | undefined

/** Imports a migration: `.js` natively, `.ts` through tsx (registered once, on first need). */
export async function loadMigration(migration: MigrationFile): Promise<MigrationModule> {
  if (typeScript.has(path.extname(migration.file))) {
    typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => register())
    await typeScriptLoader
  }
  let mod: Partial<MigrationModule> & { default?: Partial<MigrationModule> }
  try {
    mod = await import(pathToFileURL(migration.file).href)
  } catch (error) {
    const firstLine = errorMessage(error).split('\n')[0]
    throw new BackendkitError(`Cannot load migration ${migration.name}: ${firstLine}`, {
      hint: `Fix ${migration.file}.`,
      code: 'E_MIGRATION_LOAD',
      cause: error,
    })
  }
  const source = typeof mod.up === 'function' ? mod : (mod.default ?? {})
  if (typeof source.up !== 'function') {
    throw new BackendkitError(`Migration ${migration.name} exports no up() function`, {
      hint: `Export \`async function up(db)\` (and \`down(db)\`) from ${migration.file}.`,
      code: 'E_MIGRATION_LOAD',
    })
  }
  return source as MigrationModule
}
