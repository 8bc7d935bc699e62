import { Router } from 'express'
import { z } from 'zod'
import { loginBody, registerBody } from '../auth/routes.js'
import { roles } from '../auth/schema.js'
import { listQuery } from '../lib/pagination.js'
import { newComment, newPost, postChanges } from '../posts/routes.js'
import { idParams, patchUser, putUser } from '../users/routes.js'

// Response shapes, as src/rest/present.ts builds them.
const user = z.object({
  id: z.uuid(),
  email: z.email(),
  username: z.string(),
  role: z.enum(roles),
  createdAt: z.iso.datetime(),
})
const post = z.object({
  id: z.uuid(),
  authorId: z.uuid(),
  title: z.string(),
  body: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
})
const comment = z.object({
  id: z.uuid(),
  postId: z.uuid(),
  authorId: z.uuid(),
  body: z.string(),
  createdAt: z.iso.datetime(),
})
const page = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    meta: z.union([
      z.object({ page: z.int(), limit: z.int(), total: z.int(), totalPages: z.int() }),
      z.object({ hasMore: z.boolean(), nextCursor: z.string().nullable() }),
    ]),
  })
const error = z.object({
  error: z.object({ message: z.string(), code: z.string(), details: z.unknown().optional() }),
})
const accessToken = z.object({ accessToken: z.string() })

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** Express syntax: /api/posts/:id */
  path: string
  summary: string
  tag: string
  auth?: boolean
  params?: z.ZodObject
  query?: z.ZodType
  body?: z.ZodType
  /** status → response body schema (null: no body) */
  responses: Record<number, z.ZodType | null>
}

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, error]))

/** Every route of the API, with the zod schemas its handlers validate with. */
export const operations: Operation[] = [
  {
    method: 'post',
    path: '/api/auth/register',
    tag: 'auth',
    summary: 'Create an account',
    body: registerBody,
    responses: { 201: user.omit({ createdAt: true }), ...errors(409, 422) },
  },
  {
    method: 'post',
    path: '/api/auth/login',
    tag: 'auth',
    summary: 'Log in: an access token and the refresh cookie',
    body: loginBody,
    responses: { 200: accessToken, ...errors(401, 422) },
  },
  {
    method: 'post',
    path: '/api/auth/refresh',
    tag: 'auth',
    summary: 'Rotate the refresh cookie; a new access token',
    responses: { 200: accessToken, ...errors(401) },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    tag: 'auth',
    summary: 'End this session',
    responses: { 204: null },
  },
  {
    method: 'get',
    path: '/api/users',
    tag: 'users',
    auth: true,
    summary: 'List users',
    query: listQuery,
    responses: { 200: page(user), ...errors(401, 422) },
  },
  {
    method: 'get',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary: 'Read a user',
    params: idParams,
    responses: { 200: user, ...errors(401, 404, 422) },
  },
  {
    method: 'patch',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary: 'Change some fields of a user (self or admin)',
    params: idParams,
    body: patchUser,
    responses: { 200: user, ...errors(401, 403, 404, 409, 422) },
  },
  {
    method: 'put',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary: 'Replace the profile of a user (self or admin)',
    params: idParams,
    body: putUser,
    responses: { 200: user, ...errors(401, 403, 404, 409, 422) },
  },
  {
    method: 'delete',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary: 'Delete a user (admin)',
    params: idParams,
    responses: { 204: null, ...errors(401, 403, 404) },
  },
  {
    method: 'get',
    path: '/api/users/:id/posts',
    tag: 'posts',
    summary: "List a user's posts",
    params: idParams,
    query: listQuery,
    responses: { 200: page(post), ...errors(404, 422) },
  },
  {
    method: 'post',
    path: '/api/users/:id/posts',
    tag: 'posts',
    auth: true,
    summary: 'Write a post (as that user, or as admin)',
    params: idParams,
    body: newPost,
    responses: { 201: post, ...errors(401, 403, 404, 422) },
  },
  {
    method: 'get',
    path: '/api/posts',
    tag: 'posts',
    summary: 'List posts',
    query: listQuery,
    responses: { 200: page(post), ...errors(422) },
  },
  {
    method: 'get',
    path: '/api/posts/:id',
    tag: 'posts',
    summary: 'Read a post',
    params: idParams,
    responses: { 200: post, ...errors(404, 422) },
  },
  {
    method: 'patch',
    path: '/api/posts/:id',
    tag: 'posts',
    auth: true,
    summary: 'Change a post (author or admin)',
    params: idParams,
    body: postChanges,
    responses: { 200: post, ...errors(401, 403, 404, 422) },
  },
  {
    method: 'delete',
    path: '/api/posts/:id',
    tag: 'posts',
    auth: true,
    summary: 'Delete a post (author or admin)',
    params: idParams,
    responses: { 204: null, ...errors(401, 403, 404, 422) },
  },
  {
    method: 'get',
    path: '/api/posts/:id/comments',
    tag: 'comments',
    summary: "List a post's comments",
    params: idParams,
    query: listQuery,
    responses: { 200: page(comment), ...errors(404, 422) },
  },
  {
    method: 'post',
    path: '/api/posts/:id/comments',
    tag: 'comments',
    auth: true,
    summary: 'Comment on a post',
    params: idParams,
    body: newComment,
    responses: { 201: comment, ...errors(401, 404, 422) },
  },
]

const reasons: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  422: 'Invalid input',
}

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
  return rest
}

/** The OpenAPI 3.1 document, built from the same zod schemas the routes validate with. */
export function openApiDocument(info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of operations) {
    const path = op.path.replace(/:(\w+)/g, '{$1}')
    const parameters = [
      ...Object.entries(
        (jsonSchema(op.params ?? z.object({}), 'input').properties ?? {}) as Record<string, object>,
      ).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      ...Object.entries(
        (jsonSchema(op.query ?? z.object({}), 'input').properties ?? {}) as Record<string, object>,
      ).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
    ]
    paths[path] ??= {}
    paths[path][op.method] = {
      tags: [op.tag],
      summary: op.summary,
      ...(op.auth ? { security: [{ bearer: [] }] } : {}),
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
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  }
}

/** GET /openapi.json, computed once. */
export function openApiRoutes(info: { title: string; version: string }): Router {
  const document = openApiDocument(info)
  const router = Router()
  router.get('/openapi.json', (_req, res) => {
    res.json(document)
  })
  return router
}
