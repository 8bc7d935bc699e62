import { z } from 'zod'
import { roles } from '../auth/schema.js'
import { newComment } from '../comments/routes.js'
import { type ApiOperation, errorResponses, pageOf } from '../lib/openapi.js'
import { listQuery } from '../lib/pagination.js'
import { newPost, postChanges } from '../posts/routes.js'
import { idParams, patchUser, putUser } from '../users/routes.js'

// Response shapes, as src/rest/present.ts builds them.
const user = z.object({
  id: z.uuid(),
  email: z.email().optional().describe('only for the user themself and for admins'),
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

/** The operations of users, posts and comments, for GET /openapi.json. */
export const restOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/users',
    tag: 'users',
    auth: true,
    summary: 'List users',
    query: listQuery,
    responses: { 200: pageOf(user), ...errorResponses(401, 422) },
  },
  {
    method: 'get',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary: 'Read a user',
    params: idParams,
    responses: { 200: user, ...errorResponses(401, 404, 422) },
  },
  {
    method: 'patch',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary:
      'Change some fields of a user (self or admin; your own password or email needs currentPassword)',
    params: idParams,
    body: patchUser,
    responses: { 200: user, ...errorResponses(401, 403, 404, 409, 422) },
  },
  {
    method: 'put',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary: 'Replace the profile of a user (self or admin)',
    params: idParams,
    body: putUser,
    responses: { 200: user, ...errorResponses(401, 403, 404, 409, 422) },
  },
  {
    method: 'delete',
    path: '/api/users/:id',
    tag: 'users',
    auth: true,
    summary: 'Delete a user (admin)',
    params: idParams,
    responses: { 204: null, ...errorResponses(401, 403, 404, 422) },
  },
  {
    method: 'get',
    path: '/api/users/:id/posts',
    tag: 'posts',
    summary: "List a user's posts",
    params: idParams,
    query: listQuery,
    responses: { 200: pageOf(post), ...errorResponses(404, 422) },
  },
  {
    method: 'post',
    path: '/api/users/:id/posts',
    tag: 'posts',
    auth: true,
    summary: 'Write a post (as that user, or as admin)',
    params: idParams,
    body: newPost,
    responses: { 201: post, ...errorResponses(401, 403, 404, 422) },
  },
  {
    method: 'get',
    path: '/api/posts',
    tag: 'posts',
    summary: 'List posts',
    query: listQuery,
    responses: { 200: pageOf(post), ...errorResponses(422) },
  },
  {
    method: 'get',
    path: '/api/posts/:id',
    tag: 'posts',
    summary: 'Read a post',
    params: idParams,
    responses: { 200: post, ...errorResponses(404, 422) },
  },
  {
    method: 'patch',
    path: '/api/posts/:id',
    tag: 'posts',
    auth: true,
    summary: 'Change a post (author or admin)',
    params: idParams,
    body: postChanges,
    responses: { 200: post, ...errorResponses(401, 403, 404, 422) },
  },
  {
    method: 'delete',
    path: '/api/posts/:id',
    tag: 'posts',
    auth: true,
    summary: 'Delete a post (author or admin)',
    params: idParams,
    responses: { 204: null, ...errorResponses(401, 403, 404, 422) },
  },
  {
    method: 'get',
    path: '/api/posts/:id/comments',
    tag: 'comments',
    summary: "List a post's comments",
    params: idParams,
    query: listQuery,
    responses: { 200: pageOf(comment), ...errorResponses(404, 422) },
  },
  {
    method: 'post',
    path: '/api/posts/:id/comments',
    tag: 'comments',
    auth: true,
    summary: 'Comment on a post',
    params: idParams,
    body: newComment,
    responses: { 201: comment, ...errorResponses(401, 404, 409, 422) },
  },
]
