import { z } from 'zod'

/**
 * One route as GET /openapi.json documents it, with the same zod schemas its handlers validate
 * with, so the document cannot drift from the code. Each module lists its own (ModuleInstance.openapi).
 */
export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** Express syntax: /api/posts/:id */
  path: string
  summary: string
  tag: string
  /** `true`: needs `Authorization: Bearer <access token>`; `optional`: answers either way. */
  auth?: boolean | 'optional'
  params?: z.ZodObject
  query?: z.ZodType
  body?: z.ZodType
  /** status → response body schema (null: no body) */
  responses: Record<number, z.ZodType | null>
}

/** The body of every error response. */
export const errorBody = z.object({
  error: z.object({
    message: z.string(),
    code: z.string(),
    details: z.unknown().optional(),
  }),
})

/** `{ 404: errorBody, 422: errorBody }` for `errorResponses(404, 422)`. */
export function errorResponses(...statuses: number[]): Record<number, z.ZodType> {
  return Object.fromEntries(statuses.map((status) => [status, errorBody]))
}

/** A list response: `{data, meta}` with offset or cursor meta (src/lib/pagination.ts). */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    meta: z.union([
      z.object({ page: z.int(), limit: z.int(), total: z.int(), totalPages: z.int() }),
      z.object({ hasMore: z.boolean(), nextCursor: z.string().nullable() }),
    ]),
  })
}

const reasons: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad request',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  422: 'Invalid input',
  429: 'Too many requests',
  503: 'Unavailable',
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
  return rest
}

function parametersOf(where: 'path' | 'query', schema: z.ZodType | undefined) {
  if (!schema) return []
  const properties = (jsonSchema(schema, 'input').properties ?? {}) as Record<string, object>
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path',
    schema: property,
  }))
}

/** `get /api/posts/:id/comments` → `getApiPostsIdComments`: stable and unique per route. */
function operationId(op: ApiOperation): string {
  const words = op.path.split(/[/:{}-]+/).filter(Boolean)
  return op.method + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('')
}

/** The OpenAPI 3.1 document of `operations`. */
export function openApiDocument(
  info: { title: string; version: string },
  operations: readonly ApiOperation[],
) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of operations) {
    const path = op.path.replace(/:(\w+)/g, '{$1}')
    const parameters = [...parametersOf('path', op.params), ...parametersOf('query', op.query)]
    paths[path] ??= {}
    paths[path][op.method] = {
      operationId: operationId(op),
      tags: [op.tag],
      summary: op.summary,
      // Explicit on every operation, public ones included (`[]`), so nothing is ambiguous.
      security:
        op.auth === true ? [{ bearer: [] }] : op.auth === 'optional' ? [{}, { bearer: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(op.body, 'input') } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([status, schema]) => [
          status,
          {
            description: reasons[Number(status)] ?? 'Response',
            ...(schema
              ? { content: { 'application/json': { schema: jsonSchema(schema, 'output') } } }
              : {}),
          },
        ]),
      ),
    }
  }
  return {
    openapi: '3.1.0',
    info,
    // The same origin the document is served from.
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  }
}
