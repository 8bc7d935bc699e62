import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { CommandContext } from '../../core/context.js'
import { fileSystemError, usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { type MigrateOptions, migrationsDir } from './shared.js'

const defaultTemplate = `import type { Kysely } from 'kysely'

// {{name}}: runs inside its batch's transaction, so if anything here throws the batch rolls back.

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type
export async function up(db: Kysely<any>): Promise<void> {
  // e.g. await db.schema.alterTable('users').addColumn('nickname', 'text').execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  // undo up(), e.g. await db.schema.alterTable('users').dropColumn('nickname').execute()
}
`

/** 2026-11-25T14:52:17Z → 20261125145217 (UTC, so names sort the same on every machine). */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14)
}

export function migrationSlug(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
}

export interface MakeData {
  name: string
  file: string
}

export default async function migrateMake(
  ctx: CommandContext,
  rawName: string,
  options: MigrateOptions,
): Promise<CommandResult<MakeData>> {
  const slug = migrationSlug(rawName)
  if (!slug) {
    throw usageError(
      `Not a usable migration name: "${rawName}"`,
      'Use letters and digits, e.g. add_users_email_index.',
    )
  }
  const dir = migrationsDir(ctx, options)
  const existing = existsSync(dir) ? readdirSync(dir) : []
  // A project whose migrations are all JavaScript gets a JavaScript migration.
  const javascriptOnly =
    existing.some((f) => /\.m?js$/.test(f)) && !existing.some((f) => /(?<!\.d)\.m?ts$/.test(f))
  const templateFile = ctx.project.conventions.migrationTemplate
  let template = defaultTemplate
  if (templateFile) {
    const templatePath = path.resolve(ctx.project.root, templateFile)
    if (!existsSync(templatePath)) {
      throw usageError(
        `Migration template not found: ${templatePath}`,
        'Fix migrations.template in backendkit.json.',
      )
    }
    template = readFileSync(templatePath, 'utf8')
  } else if (javascriptOnly) {
    template = defaultTemplate
      .replace("import type { Kysely } from 'kysely'\n\n", '')
      .replace(/^\/\/ biome-ignore.*\n/gm, '')
      .replace(/\(db: Kysely<any>\): Promise<void>/g, '(db)')
  }
  const ext = templateFile ? path.extname(templateFile) || '.ts' : javascriptOnly ? '.js' : '.ts'
  const name = `${timestamp(new Date())}_${slug}`
  const file = path.join(dir, `${name}${ext}`)
  try {
    mkdirSync(dir, { recursive: true })
    // 'wx': never overwrite a file that exists.
    writeFileSync(file, template.replaceAll('{{name}}', name), { flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw usageError(`${file} already exists`, 'Wait a second or pick another name.')
    }
    throw fileSystemError(error, 'create the migration')
  }
  const relative = path.relative(ctx.io.cwd, file) || file
  return { data: { name, file }, render: () => `Created ${relative}` }
}
