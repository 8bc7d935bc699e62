import { type SelectQueryBuilder, sql } from 'kysely'
import { z } from 'zod'
import { ValidationError } from './errors.js'

export const DEFAULT_LIMIT = 20
export const MAX_LIMIT = 100

/**
 * `?page=&limit=` (offset; the default, page 1) or `?cursor=&limit=` (keyset; an empty cursor
 * starts from the newest). `limit` defaults to 20 and is capped at 100; anything that is not a
 * positive whole number is a 422.
 */
export const listQuery = z
  .strictObject({
    page: z.coerce.number().int().min(1).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .default(DEFAULT_LIMIT)
      .transform((n) => Math.min(n, MAX_LIMIT)),
  })
  .refine((q) => q.page === undefined || q.cursor === undefined, {
    message: 'use either page or cursor, not both',
  })

export type ListQuery = z.infer<typeof listQuery>

// Types, not interfaces: a page of JSON values is itself a JSON value, so it can be cached.
export type OffsetPage<T> = {
  data: T[]
  meta: { page: number; limit: number; total: number; totalPages: number }
}

export type CursorPage<T> = {
  data: T[]
  meta: { hasMore: boolean; nextCursor: string | null }
}

export type Page<T> = OffsetPage<T> | CursorPage<T>

interface Position {
  createdAt: Date
  id: string
}

/** Opaque to clients: base64url of [created_at, id] of the last row they saw. */
export function encodeCursor(row: Position): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url')
}

export function decodeCursor(cursor: string): Position {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    const createdAt = new Date(String(at))
    if (
      typeof at !== 'string' ||
      Number.isNaN(createdAt.getTime()) ||
      typeof id !== 'string' ||
      !z.uuid().safeParse(id).success
    ) {
      throw new Error('malformed')
    }
    return { createdAt, id }
  } catch {
    throw new ValidationError([
      { path: 'query.cursor', message: 'Invalid cursor', code: 'invalid_cursor' },
    ])
  }
}

/**
 * Pages through `query`, newest first by (created_at, id). The query must select `created_at`
 * and `id` of the table aliased as `t`; `map` turns rows into the response shape.
 *
 * Cursor pages are keyset pages: rows inserted during a scan sort before the cursor, so no row
 * repeats or goes missing, and ties in created_at are broken by id.
 */
export async function paginate<
  DB,
  TB extends keyof DB,
  Row extends { created_at: Date; id: string },
  Out,
>(
  query: SelectQueryBuilder<DB, TB, Row>,
  params: ListQuery,
  map: (row: Row) => Out,
): Promise<Page<Out>> {
  const ordered = query.orderBy(sql`t.created_at`, 'desc').orderBy(sql`t.id`, 'desc')
  if (params.cursor !== undefined) {
    const after = params.cursor === '' ? undefined : decodeCursor(params.cursor)
    const rows = await (after
      ? ordered.where(sql<boolean>`(t.created_at, t.id) < (${after.createdAt}, ${after.id}::uuid)`)
      : ordered
    )
      .limit(params.limit + 1)
      .execute()
    const hasMore = rows.length > params.limit
    const page = rows.slice(0, params.limit)
    const last = page.at(-1)
    return {
      data: page.map(map),
      meta: {
        hasMore,
        nextCursor:
          hasMore && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
      },
    }
  }
  const page = params.page ?? 1
  const [rows, count] = await Promise.all([
    ordered
      .limit(params.limit)
      .offset((page - 1) * params.limit)
      .execute(),
    query.clearSelect().select(sql<string>`count(*)`.as('total')).executeTakeFirst() as Promise<
      { total: string } | undefined
    >,
  ])
  const total = Number(count?.total ?? 0)
  return {
    data: rows.map(map),
    meta: { page, limit: params.limit, total, totalPages: Math.ceil(total / params.limit) },
  }
}
