import { z } from 'zod'
import { type ApiOperation, errorResponses } from '../lib/openapi.js'
import { loginBody, registerBody } from './routes.js'
import { roles } from './schema.js'

const registered = z.object({
  id: z.uuid(),
  email: z.email(),
  username: z.string(),
  role: z.enum(roles),
})
const accessToken = z.object({ accessToken: z.string() })

/** The operations of /api/auth, for GET /openapi.json. */
export const authOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/api/auth/register',
    tag: 'auth',
    summary: 'Create an account',
    body: registerBody,
    responses: { 201: registered, ...errorResponses(409, 422, 429) },
  },
  {
    method: 'post',
    path: '/api/auth/login',
    tag: 'auth',
    summary: 'Log in: an access token and the refresh cookie',
    body: loginBody,
    responses: { 200: accessToken, ...errorResponses(401, 422, 429) },
  },
  {
    method: 'post',
    path: '/api/auth/refresh',
    tag: 'auth',
    summary: 'Rotate the refresh cookie; a new access token',
    responses: { 200: accessToken, ...errorResponses(401) },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    tag: 'auth',
    summary: 'End this session',
    responses: { 204: null },
  },
  {
    method: 'post',
    path: '/api/auth/logout-all',
    tag: 'auth',
    auth: true,
    summary: 'End every session of the caller, access tokens included',
    responses: { 204: null, ...errorResponses(401) },
  },
]
