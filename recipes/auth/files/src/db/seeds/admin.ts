import { sql } from 'kysely'
import { hashPassword } from '../../auth/passwords.js'
import type { Seed } from '../seed.js'

/**
 * The first admin, from ADMIN_EMAIL and ADMIN_PASSWORD. Idempotent: an existing account with
 * that email is made an admin, its password left alone.
 */
export const seed: Seed = async (db, logger) => {
  const email = process.env.ADMIN_EMAIL
  const password = process.env.ADMIN_PASSWORD
  if (!email || !password) {
    logger.info('ADMIN_EMAIL / ADMIN_PASSWORD not set: no admin seeded')
    return
  }
  if (password.length < 12) throw new Error('ADMIN_PASSWORD must be at least 12 characters')
  const username = email.split('@')[0]?.replace(/[^a-zA-Z0-9_.-]/g, '') || 'admin'
  await db.write
    .insertInto('users')
    .values({ email, username, password_hash: await hashPassword(password), role: 'admin' })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doUpdateSet({ role: 'admin' }))
    .execute()
  logger.info({ email }, 'admin seeded')
}
