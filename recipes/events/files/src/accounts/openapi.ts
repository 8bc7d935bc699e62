import { z } from 'zod'
import { type ApiOperation, errorResponses, pageOf } from '../lib/openapi.js'
import { listQuery } from '../lib/pagination.js'
import { accountParams, movement, openAccount } from './routes.js'

const account = z.object({
  id: z.uuid(),
  ownerId: z.uuid(),
  balance: z.int().describe('integer cents'),
  version: z.int().describe('how many events the account has'),
})
const event = z.object({
  version: z.int(),
  type: z.enum(['AccountOpened', 'FundsDeposited', 'FundsWithdrawn']),
  data: z.union([z.object({ ownerId: z.uuid() }), z.object({ amount: z.int() })]),
  actorId: z.uuid().nullable(),
  recordedAt: z.iso.datetime(),
})

/** The ledger's operations, for GET /openapi.json. */
export const accountOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/api/accounts',
    tag: 'accounts',
    auth: true,
    summary: 'Open an account (owned by the caller)',
    body: openAccount,
    responses: { 201: account, ...errorResponses(401, 422) },
  },
  {
    method: 'get',
    path: '/api/accounts/:id',
    tag: 'accounts',
    auth: true,
    summary: 'Read an account: balance and version, from the read model (owner or admin)',
    params: accountParams,
    responses: { 200: account, ...errorResponses(401, 403, 404, 422) },
  },
  {
    method: 'get',
    path: '/api/accounts/:id/events',
    tag: 'accounts',
    auth: true,
    summary: "List an account's events, newest first (owner or admin)",
    params: accountParams,
    query: listQuery,
    responses: { 200: pageOf(event), ...errorResponses(401, 403, 404, 422) },
  },
  {
    method: 'post',
    path: '/api/accounts/:id/deposits',
    tag: 'accounts',
    auth: true,
    summary: 'Deposit integer cents; answers the account after it (owner or admin)',
    params: accountParams,
    body: movement,
    responses: { 201: account, ...errorResponses(401, 403, 404, 409, 422) },
  },
  {
    method: 'post',
    path: '/api/accounts/:id/withdrawals',
    tag: 'accounts',
    auth: true,
    summary:
      'Withdraw integer cents: 409 beyond the balance or when a concurrent change won (owner or admin)',
    params: accountParams,
    body: movement,
    responses: { 201: account, ...errorResponses(401, 403, 404, 409, 422) },
  },
]
