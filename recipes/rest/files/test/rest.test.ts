import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import { rest } from '../src/rest/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { authTestEnv, bearer, post, type Session, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'

const db = useTestDatabase()
let app: TestApp
let url: string
let alice: Session
let bob: Session
let admin: Session

interface Post {
  id: string
  authorId: string
  title: string
  body: string
  createdAt: string
}
interface OffsetList<T> {
  data: T[]
  meta: { page: number; limit: number; total: number; totalPages: number }
}
interface CursorList<T> {
  data: T[]
  meta: { hasMore: boolean; nextCursor: string | null }
}

const call = (method: string, path: string, session?: Session, body?: unknown) =>
  fetch(`${url}${path}`, {
    method,
    headers: {
      ...(session ? bearer(session.accessToken) : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function createPost(session: Session, title = 'Hello'): Promise<Post> {
  const res = await call('POST', `/api/users/${session.user.id}/posts`, session, {
    title,
    body: 'text',
  })
  expect(res.status).toBe(201)
  return json<Post>(res)
}

beforeAll(async () => {
  app = await startApp({
    modules: [database, auth, rest],
    env: { DATABASE_URL: db.url, ...authTestEnv },
  })
  url = app.url
  ;[alice, bob, admin] = [await signUp(url), await signUp(url), await signUp(url)]
  // Promote through the database (the seed does the same); then log in again for an admin token.
  await sql`update users set role = 'admin' where id = ${admin.user.id}`.execute(
    app.service('db').write,
  )
  const login = await post(`${url}/api/auth/login`, {
    email: admin.user.email,
    password: admin.password,
  })
  admin.accessToken = (await json<{ accessToken: string }>(login)).accessToken
})
afterAll(() => app.close())

describe('users', () => {
  it('401 without a token; 200 with one; never a password hash', async () => {
    expect((await call('GET', '/api/users')).status).toBe(401)
    const res = await call('GET', `/api/users/${alice.user.id}`, bob)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({
      id: alice.user.id,
      email: alice.user.email,
      role: 'user',
    })
    expect(text).not.toMatch(/password|argon2/i)
    const list = await call('GET', '/api/users?limit=100', bob)
    expect(await list.text()).not.toMatch(/password|argon2/i)
  })

  it.each([
    ['no token', undefined],
    ['garbage', 'Bearer not.a.jwt'],
    [
      'alg=none',
      'Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.',
    ],
    [
      'a token signed with another key',
      'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl',
    ],
    ['a refresh token used as an access token', 'refresh'],
  ])('401 with %s', async (_name, header) => {
    const value = header === 'refresh' ? `Bearer ${alice.refreshCookie.split('=')[1]}` : header
    const res = await fetch(`${url}/api/users`, { headers: value ? { authorization: value } : {} })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })

  it('a tampered token (payload changed, signature kept) is 401', async () => {
    const [header, payload, signature] = alice.accessToken.split('.')
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString())
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')
    const res = await call('DELETE', `/api/users/${bob.user.id}`, {
      ...alice,
      accessToken: `${header}.${forged}.${signature}`,
    })
    expect(res.status).toBe(401)
  })

  it('404 for a user that does not exist; 422 for an id that is not one', async () => {
    expect((await call('GET', '/api/users/00000000-0000-4000-8000-000000000000', bob)).status).toBe(
      404,
    )
    expect((await call('GET', '/api/users/nope', bob)).status).toBe(422)
  })

  it('a user changes only themself; an admin changes anyone; only an admin changes roles', async () => {
    expect(
      (await call('PATCH', `/api/users/${alice.user.id}`, bob, { username: 'bob_was_here' }))
        .status,
    ).toBe(403)
    const own = await call('PATCH', `/api/users/${bob.user.id}`, bob, {
      username: `bob_${Date.now()}`,
    })
    expect(own.status).toBe(200)
    expect((await call('PATCH', `/api/users/${bob.user.id}`, bob, { role: 'admin' })).status).toBe(
      403,
    )
    expect(
      (
        await call('PATCH', `/api/users/${alice.user.id}`, admin, {
          username: `alice_${Date.now()}`,
        })
      ).status,
    ).toBe(200)
    expect((await call('PATCH', `/api/users/${bob.user.id}`, bob, { id: 'x' })).status).toBe(422)
  })

  it('PUT replaces the editable profile; 409 when the email is taken', async () => {
    const res = await call('PUT', `/api/users/${bob.user.id}`, bob, {
      email: alice.user.email.toUpperCase(),
      username: `b${Date.now()}`,
    })
    expect(res.status).toBe(409)
    expect((await json<ErrorBody>(res)).error.code).toBe('CONFLICT')
    const ok = await call('PUT', `/api/users/${bob.user.id}`, bob, {
      email: bob.user.email,
      username: `b${Date.now()}`,
    })
    expect(ok.status).toBe(200)
  })

  it('a password change ends every session of that user', async () => {
    const carol = await signUp(url)
    const res = await call('PATCH', `/api/users/${carol.user.id}`, carol, {
      password: 'a brand new password',
    })
    expect(res.status).toBe(200)
    expect(
      (await post(`${url}/api/auth/refresh`, {}, { cookie: carol.refreshCookie })).status,
    ).toBe(401)
    const login = await post(`${url}/api/auth/login`, {
      email: carol.user.email,
      password: 'a brand new password',
    })
    expect(login.status).toBe(200)
  })

  it('delete: 403 for a user, 204 for an admin, then 404', async () => {
    const dave = await signUp(url)
    expect((await call('DELETE', `/api/users/${dave.user.id}`, dave)).status).toBe(403)
    expect((await call('DELETE', `/api/users/${dave.user.id}`, admin)).status).toBe(204)
    expect((await call('DELETE', `/api/users/${dave.user.id}`, admin)).status).toBe(404)
  })
})

describe('posts and comments', () => {
  it('201 with the created post; anyone reads it; 401 to create without a token; 403 as someone else', async () => {
    const created = await createPost(alice, 'First')
    expect(created).toMatchObject({ authorId: alice.user.id, title: 'First' })
    const read = await call('GET', `/api/posts/${created.id}`)
    expect(read.status).toBe(200)
    expect(
      (
        await call('POST', `/api/users/${alice.user.id}/posts`, undefined, {
          title: 't',
          body: 'b',
        })
      ).status,
    ).toBe(401)
    expect(
      (await call('POST', `/api/users/${alice.user.id}/posts`, bob, { title: 't', body: 'b' }))
        .status,
    ).toBe(403)
    expect(
      (await call('POST', `/api/users/${alice.user.id}/posts`, alice, { title: '', body: 'b' }))
        .status,
    ).toBe(422)
    expect(
      (
        await call('POST', `/api/users/${alice.user.id}/posts`, alice, {
          title: 't',
          body: 'b',
          authorId: bob.user.id,
        })
      ).status,
    ).toBe(422)
  })

  it('only the author or an admin edits or deletes a post', async () => {
    const mine = await createPost(alice)
    expect((await call('PATCH', `/api/posts/${mine.id}`, bob, { title: 'hacked' })).status).toBe(
      403,
    )
    expect((await call('DELETE', `/api/posts/${mine.id}`, bob)).status).toBe(403)
    const edited = await call('PATCH', `/api/posts/${mine.id}`, alice, { title: 'Edited' })
    expect(edited.status).toBe(200)
    expect((await json<Post>(edited)).title).toBe('Edited')
    expect(
      (await call('PATCH', `/api/posts/${mine.id}`, admin, { body: 'moderated' })).status,
    ).toBe(200)
    expect((await call('DELETE', `/api/posts/${mine.id}`, admin)).status).toBe(204)
    expect((await call('GET', `/api/posts/${mine.id}`)).status).toBe(404)
  })

  it('comments: listed by anyone, written by any signed-in user, 404 on a missing post', async () => {
    const target = await createPost(alice)
    const res = await call('POST', `/api/posts/${target.id}/comments`, bob, { body: 'Nice post' })
    expect(res.status).toBe(201)
    expect(await json(res)).toMatchObject({
      postId: target.id,
      authorId: bob.user.id,
      body: 'Nice post',
    })
    expect(
      (await call('POST', `/api/posts/${target.id}/comments`, undefined, { body: 'anon' })).status,
    ).toBe(401)
    const list = await json<OffsetList<unknown>>(
      await call('GET', `/api/posts/${target.id}/comments`),
    )
    expect(list.meta.total).toBe(1)
    expect(
      (await call('GET', '/api/posts/00000000-0000-4000-8000-000000000000/comments')).status,
    ).toBe(404)
  })
})

describe('pagination', () => {
  let author: Session
  beforeAll(async () => {
    author = await signUp(url)
    for (let i = 0; i < 30; i++) await createPost(author, `p${i}`)
  })

  it('offset pages: page, limit, total, totalPages; limit defaults to 20', async () => {
    const first = await json<OffsetList<Post>>(
      await call('GET', `/api/users/${author.user.id}/posts`),
    )
    expect(first.meta).toEqual({ page: 1, limit: 20, total: 30, totalPages: 2 })
    expect(first.data).toHaveLength(20)
    const second = await json<OffsetList<Post>>(
      await call('GET', `/api/users/${author.user.id}/posts?page=2&limit=20`),
    )
    expect(second.data).toHaveLength(10)
    expect(new Set([...first.data, ...second.data].map((p) => p.id)).size).toBe(30)
  })

  it('caps limit at 100 and refuses nonsense with a 422, never a 500', async () => {
    const capped = await json<OffsetList<Post>>(await call('GET', '/api/posts?limit=1000'))
    expect(capped.meta.limit).toBe(100)
    for (const query of [
      'limit=abc',
      'limit=-5',
      'limit=0',
      'page=0',
      'page=x',
      'cursor=%%%',
      'page=1&cursor=',
      'extra=1',
    ]) {
      expect((await call('GET', `/api/posts?${query}`)).status, query).toBe(422)
    }
  })

  it('cursor pages are stable while rows are inserted during the scan', async () => {
    const seen: string[] = []
    let cursor = ''
    let pages = 0
    for (;;) {
      const page = await json<CursorList<Post>>(
        await call('GET', `/api/users/${author.user.id}/posts?limit=7&cursor=${cursor}`),
      )
      seen.push(...page.data.map((p) => p.id))
      pages++
      // new posts arrive while the client pages
      await Promise.all([createPost(author, 'late'), createPost(author, 'late')])
      if (!page.meta.hasMore || !page.meta.nextCursor) break
      cursor = page.meta.nextCursor
    }
    expect(pages).toBe(5)
    expect(seen).toHaveLength(30)
    expect(new Set(seen).size).toBe(30)
  })

  it('ties in created_at do not break the cursor', async () => {
    const tied = await signUp(url)
    await sql`insert into posts (author_id, title, body, created_at)
      select ${tied.user.id}::uuid, 'tie ' || n, 'b', '2024-01-01T00:00:00.000Z'::timestamptz from generate_series(1, 9) n`.execute(
      app.service('db').write,
    )
    const ids: string[] = []
    let cursor = ''
    for (;;) {
      const page = await json<CursorList<Post>>(
        await call('GET', `/api/users/${tied.user.id}/posts?limit=2&cursor=${cursor}`),
      )
      ids.push(...page.data.map((p) => p.id))
      if (!page.meta.nextCursor) break
      cursor = page.meta.nextCursor
    }
    expect(ids).toHaveLength(9)
    expect(new Set(ids).size).toBe(9)
  })
})

describe('GET /openapi.json', () => {
  interface Document {
    openapi: string
    paths: Record<
      string,
      Record<
        string,
        { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }
      >
    >
  }

  it('is an OpenAPI 3.1 document built from the routes’ own zod schemas', async () => {
    const res = await call('GET', '/openapi.json')
    expect(res.status).toBe(200)
    const doc = await json<Document>(res)
    expect(doc.openapi).toBe('3.1.0')
    const register =
      doc.paths['/api/auth/register']?.post?.requestBody?.content['application/json']?.schema
    expect(register).toMatchObject({
      required: ['email', 'username', 'password'],
      additionalProperties: false,
    })
    expect(Object.keys(doc.paths['/api/posts/{id}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
    ])
  })

  it('documents only routes that exist', async () => {
    const doc = await json<Document>(await call('GET', '/openapi.json'))
    const id = '00000000-0000-4000-8000-000000000000'
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const res = await call(
          method.toUpperCase(),
          path.replace('{id}', id),
          alice,
          method === 'get' ? undefined : {},
        )
        const body = res.status === 204 ? '' : await res.text()
        expect(body, `${method} ${path}`).not.toContain('No route for')
      }
    }
  })
})
