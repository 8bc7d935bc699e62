import { loadConfig } from '../config.js'
import { createDatabase } from '../db/database.js'
import { databaseEnv } from '../db/module.js'
import { createLogger } from '../lib/logger.js'
import { ProjectionRunner } from './projection-runner.js'
import { projections } from './projections.js'

/**
 * `npm run projections:rebuild [name…]`: empties each projection's read model (every one, or
 * those named) and replays the whole event log into it, in one transaction per projection, so
 * readers see the old read model until the new one is complete. The running instances keep
 * going: their projections wait for the rebuild, then carry on from its checkpoint.
 */
async function main(): Promise<void> {
  const { core } = loadConfig(process.env, [])
  const logger = createLogger(core)
  const names = process.argv.slice(2)
  const unknown = names.filter((name) => !projections.some((p) => p.name === name))
  if (unknown.length > 0) {
    console.error(
      `unknown projection: ${unknown.join(', ')}; known: ${projections.map((p) => p.name).join(', ')}`,
    )
    process.exitCode = 2
    return
  }
  const db = createDatabase(databaseEnv.parse(process.env), logger)
  try {
    for (const projection of projections) {
      if (names.length > 0 && !names.includes(projection.name)) continue
      const started = performance.now()
      const events = await new ProjectionRunner(db, projection, { logger }).rebuild()
      const ms = Math.round(performance.now() - started)
      logger.info({ projection: projection.name, events, ms }, 'projection rebuilt')
    }
  } finally {
    await db.destroy()
  }
}

main().catch((error: unknown) => {
  console.error('rebuilding projections failed:', error)
  process.exitCode = 1
})
