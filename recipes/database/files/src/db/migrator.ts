import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Kysely } from 'kysely'
import { FileMigrationProvider, Migrator } from 'kysely/migration'

export const migrationFolder = fileURLToPath(new URL('./migrations', import.meta.url))

/**
 * Applies every pending migration (tests use it for their databases). Deployments use
 * `npx backendkit migrate up`, which runs the same files with batches, a dry run and a lock.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema version
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder }),
  })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((result) => result.status === 'Error')
  if (error) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, {
      cause: error,
    })
  }
}
