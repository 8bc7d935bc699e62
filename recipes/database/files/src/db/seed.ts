import { existsSync, readdirSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../config.js'
import { createLogger, type Logger } from '../lib/logger.js'
import { createDatabase, type Db } from './database.js'
import { databaseEnv } from './module.js'

/** A seed: idempotent, so running `npm run db:seed` twice changes nothing the second time. */
export type Seed = (db: Db, logger: Logger) => Promise<void>

const seedsDir = new URL('./seeds/', import.meta.url)

async function main(): Promise<void> {
  const { core } = loadConfig(process.env, [])
  const logger = createLogger(core)
  const db = createDatabase(databaseEnv.parse(process.env), logger)
  try {
    // Compiled (dist/db/seeds) the folder exists only when some recipe brings a seed.
    const files = (existsSync(seedsDir) ? readdirSync(seedsDir) : [])
      .filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
      .sort()
    for (const file of files) {
      const { seed } = (await import(pathToFileURL(new URL(file, seedsDir).pathname).href)) as {
        seed: Seed
      }
      logger.info({ seed: file }, 'seeding')
      await seed(db, logger)
    }
    logger.info({ seeds: files.length }, 'seeding done')
  } finally {
    await db.destroy()
  }
}

main().catch((error: unknown) => {
  console.error('seeding failed:', error)
  process.exitCode = 1
})
