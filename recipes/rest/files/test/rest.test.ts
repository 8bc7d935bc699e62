import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import { rest } from '../src/rest/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { authTestEnv, bearer, post, type Session, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import { MemoryCache } from './support/memory-cache.js'

// Every test makes the users and posts it needs: the tests pass in any order (the suite is run
// shuffled). A cache that really caches sits in front, so a write that forgets to invalidate
// what it changed fails here as a stale read.

const db = useTestDatabase()
const cache = new MemoryCache()
let app: TestApp
let url: string

interface User {
  id: string
  email?: string
  username: string
  role: string
}
interface Post {
  id: string
  authorId: string
  title: string
  body: string
  createdAt: string
}
interface Comment {
  id: string
  authorId: string
  body: string
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

/** A fresh admin: signed up, promoted in the database (as the seed does), signed in again. */
async function signUpAdmin(): Promise<Session> {
  const session = await signUp(url)
  await sql`update users set role = 'admin' where id = ${session.user.id}`.execute(
    app.service('db').write,
  )
  const login = await post(`${url}/api/auth/login`, {
    email: session.user.email,
    password: session.password,
  })
  return { ...session, accessToken: (await json<{ accessToken: string }>(login)).accessToken }
}

beforeAll(async () => {
  app = await startApp({
    modules: [cache.module(), database, auth, rest],
    env: { DATABASE_URL: db.url, ...authTestEnv },
  })
  url = app.url
})
afterAll(() => app.close())

describe('users', () => {
  it('401 without a token; 200 with one; never a password hash; no-store', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    expect((await call('GET', '/api/users')).status).toBe(401)
    const res = await call('GET', `/api/users/${alice.user.id}`, bob)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ id: alice.user.id, role: 'user' })
    expect(text).not.toMatch(/password|argon2/i)
    const list = await call('GET', '/api/users?limit=100', bob)
    expect(await list.text()).not.toMatch(/password|argon2/i)
  })

  it("shows a user's email only to that user and to admins", async () => {
    const [alice, bob, admin] = [await signUp(url), await signUp(url), await signUpAdmin()]
    const seenBy = async (viewer: Session) =>
      json<User>(await call('GET', `/api/users/${alice.user.id}`, viewer))
    expect(await seenBy(bob)).not.toHaveProperty('email')
    expect((await seenBy(alice)).email).toBe(alice.user.email)
    expect((await seenBy(admin)).email).toBe(alice.user.email)
    const list = await json<OffsetList<User>>(await call('GET', '/api/users?limit=100', bob))
    expect(list.data.filter((u) => u.email !== undefined).map((u) => u.id)).toEqual([bob.user.id])
    const all = await json<OffsetList<User>>(await call('GET', '/api/users?limit=100', admin))
    expect(all.data.every((u) => u.email !== undefined)).toBe(true)
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
    const alice = await signUp(url)
    const value = header === 'refresh' ? `Bearer ${alice.refreshCookie.split('=')[1]}` : header
    const res = await fetch(`${url}/api/users`, { headers: value ? { authorization: value } : {} })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })

  it('a tampered token (payload changed, signature kept) is 401', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
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
    const bob = await signUp(url)
    expect((await call('GET', '/api/users/00000000-0000-4000-8000-000000000000', bob)).status).toBe(
      404,
    )
    expect((await call('GET', '/api/users/nope', bob)).status).toBe(422)
  })

  it('a user changes only themself; an admin changes anyone; only an admin changes roles', async () => {
    const [alice, bob, admin] = [await signUp(url), await signUp(url), await signUpAdmin()]
    expect(
      (await call('PATCH', `/api/users/${alice.user.id}`, bob, { username: `x${Date.now()}` }))
        .status,
    ).toBe(403)
    const own = await call('PATCH', `/api/users/${bob.user.id}`, bob, {
      username: `bob_${Date.now()}`,
    })
    expect(own.status).toBe(200)
    expect((await call('PATCH', `/api/users/${bob.user.id}`, bob, { role: 'admin' })).status).toBe(
      403,
    )
    const renamed = `alice_${Date.now()}`
    const byAdmin = await call('PATCH', `/api/users/${alice.user.id}`, admin, { username: renamed })
    expect(byAdmin.status).toBe(200)
    // What was cached of alice went with the change.
    expect((await json<User>(await call('GET', `/api/users/${alice.user.id}`, bob))).username).toBe(
      renamed,
    )
    expect((await call('PATCH', `/api/users/${bob.user.id}`, bob, { id: 'x' })).status).toBe(422)
  })

  it('PUT replaces the editable profile; 409 when the email is taken', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const taken = await call('PUT', `/api/users/${bob.user.id}`, bob, {
      email: alice.user.email.toUpperCase(),
      username: `b${Date.now()}`,
      currentPassword: bob.password,
    })
    expect(taken.status).toBe(409)
    expect((await json<ErrorBody>(taken)).error.code).toBe('CONFLICT')
    // The same email (any case): no current password needed, nothing sensitive changes.
    const ok = await call('PUT', `/api/users/${bob.user.id}`, bob, {
      email: bob.user.email.toUpperCase(),
      username: `b${Date.now()}`,
    })
    expect(ok.status).toBe(200)
  })
})

describe('account safety: a stolen access token cannot take an account over', () => {
  it.each([
    ['password', { password: 'a brand new password' }],
    ['email', { email: `new-${Date.now()}@example.com` }],
  ])('changing your own %s needs your current password', async (_what, change) => {
    const carol = await signUp(url)
    const without = await call('PATCH', `/api/users/${carol.user.id}`, carol, change)
    expect(without.status).toBe(422)
    expect((await json<ErrorBody>(without)).error.details).toContainEqual(
      expect.objectContaining({ path: 'body.currentPassword' }),
    )
    const wrong = await call('PATCH', `/api/users/${carol.user.id}`, carol, {
      ...change,
      currentPassword: 'not my password',
    })
    expect(wrong.status).toBe(403)
    expect((await json<ErrorBody>(wrong)).error.code).toBe('INVALID_CURRENT_PASSWORD')
    const right = await call('PATCH', `/api/users/${carol.user.id}`, carol, {
      ...change,
      currentPassword: carol.password,
    })
    expect(right.status).toBe(200)
  })

  it('a password change ends every session at once, the access token in hand too', async () => {
    const carol = await signUp(url)
    const res = await call('PATCH', `/api/users/${carol.user.id}`, carol, {
      password: 'a brand new password',
      currentPassword: carol.password,
    })
    expect(res.status).toBe(200)
    expect((await call('GET', `/api/users/${carol.user.id}`, carol)).status).toBe(401)
    expect(
      (await post(`${url}/api/auth/refresh`, {}, { cookie: carol.refreshCookie })).status,
    ).toBe(401)
    const login = await post(`${url}/api/auth/login`, {
      email: carol.user.email,
      password: 'a brand new password',
    })
    expect(login.status).toBe(200)
  })

  it("an admin sets another user's password without knowing theirs", async () => {
    const [dave, admin] = [await signUp(url), await signUpAdmin()]
    const res = await call('PATCH', `/api/users/${dave.user.id}`, admin, {
      password: 'reset by the admin',
    })
    expect(res.status).toBe(200)
  })

  it("a demoted admin's token loses its power at once", async () => {
    const [demoted, other, victim] = [await signUpAdmin(), await signUpAdmin(), await signUp(url)]
    const demote = await call('PATCH', `/api/users/${demoted.user.id}`, other, { role: 'user' })
    expect(demote.status).toBe(200)
    expect((await call('DELETE', `/api/users/${victim.user.id}`, demoted)).status).toBe(401)
    expect((await call('GET', `/api/users/${victim.user.id}`, other)).status).toBe(200)
  })

  it("a deleted user's token stops working at once", async () => {
    const [erin, admin] = [await signUp(url), await signUpAdmin()]
    const post = await createPost(erin)
    expect((await call('DELETE', `/api/users/${erin.user.id}`, admin)).status).toBe(204)
    expect(
      (await call('POST', `/api/posts/${post.id}/comments`, erin, { body: 'ghost' })).status,
    ).toBe(401)
    expect((await call('GET', `/api/posts/${post.id}`)).status).toBe(404) // cached, then dropped
  })

  it('delete: 403 for a user, 204 for an admin, then 404', async () => {
    const [dave, admin] = [await signUp(url), await signUpAdmin()]
    expect((await call('DELETE', `/api/users/${dave.user.id}`, dave)).status).toBe(403)
    expect((await call('DELETE', `/api/users/${dave.user.id}`, admin)).status).toBe(204)
    expect((await call('DELETE', `/api/users/${dave.user.id}`, admin)).status).toBe(404)
  })
})

describe('posts and comments', () => {
  it('201 with the created post; anyone reads it; 401 to create without a token; 403 as someone else', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const created = await createPost(alice, 'First')
    expect(created).toMatchObject({ authorId: alice.user.id, title: 'First' })
    const read = await call('GET', `/api/posts/${created.id}`)
    expect(read.status).toBe(200)
    const path = `/api/users/${alice.user.id}/posts`
    expect((await call('POST', path, undefined, { title: 't', body: 'b' })).status).toBe(401)
    expect((await call('POST', path, bob, { title: 't', body: 'b' })).status).toBe(403)
    expect((await call('POST', path, alice, { title: '', body: 'b' })).status).toBe(422)
    expect(
      (await call('POST', path, alice, { title: 't', body: 'b', authorId: bob.user.id })).status,
    ).toBe(422)
  })

  it('only the author or an admin edits or deletes a post; every reader sees each change', async () => {
    const [alice, bob, admin] = [await signUp(url), await signUp(url), await signUpAdmin()]
    const mine = await createPost(alice)
    const read = async () => json<Post>(await call('GET', `/api/posts/${mine.id}`))
    expect((await read()).title).toBe('Hello') // now cached
    expect((await call('PATCH', `/api/posts/${mine.id}`, bob, { title: 'hacked' })).status).toBe(
      403,
    )
    expect((await call('DELETE', `/api/posts/${mine.id}`, bob)).status).toBe(403)
    const edited = await call('PATCH', `/api/posts/${mine.id}`, alice, { title: 'Edited' })
    expect(edited.status).toBe(200)
    expect((await read()).title).toBe('Edited')
    expect(
      (await call('PATCH', `/api/posts/${mine.id}`, admin, { body: 'moderated' })).status,
    ).toBe(200)
    expect((await read()).body).toBe('moderated')
    expect((await call('DELETE', `/api/posts/${mine.id}`, admin)).status).toBe(204)
    expect((await call('GET', `/api/posts/${mine.id}`)).status).toBe(404)
    expect((await call('GET', `/api/posts/${mine.id}/comments`)).status).toBe(404)
  })

  it('concurrent reads of many posts, read together from the database, each get their own', async () => {
    const alice = await signUp(url)
    const posts = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createPost(alice, `Post ${i}`)),
    )
    const missing = crypto.randomUUID()
    const ids = [...posts.map((p) => p.id), missing, ...posts.map((p) => p.id).reverse()]
    const answers = await Promise.all(ids.map((id) => call('GET', `/api/posts/${id}`)))
    expect(answers.map((res) => res.status)).toEqual(ids.map((id) => (id === missing ? 404 : 200)))
    const bodies = await Promise.all(
      answers.filter((res) => res.status === 200).map((res) => json<Post>(res)),
    )
    const byId = new Map(posts.map((p) => [p.id, p.title]))
    for (const body of bodies) expect(body.title).toBe(byId.get(body.id))
    expect(bodies.map((b) => b.id)).toEqual(ids.filter((id) => id !== missing))
  })

  it('comments: listed by anyone, written by any signed-in user, 404 on a missing post', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const target = await createPost(alice)
    const list = () => call('GET', `/api/posts/${target.id}/comments`)
    expect((await json<OffsetList<Comment>>(await list())).meta.total).toBe(0) // now cached
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
    const after = await json<OffsetList<Comment>>(await list())
    expect(after.meta.total).toBe(1)
    expect(after.data[0]?.body).toBe('Nice post')
    expect(
      (await call('GET', '/api/posts/00000000-0000-4000-8000-000000000000/comments')).status,
    ).toBe(404)
  })

  it('deleting a user takes their comments off every page that showed them', async () => {
    const [alice, bob, admin] = [await signUp(url), await signUp(url), await signUpAdmin()]
    const target = await createPost(alice)
    await call('POST', `/api/posts/${target.id}/comments`, bob, { body: 'from bob' })
    const list = async () =>
      json<OffsetList<Comment>>(await call('GET', `/api/posts/${target.id}/comments`))
    expect((await list()).meta.total).toBe(1)
    expect((await call('DELETE', `/api/users/${bob.user.id}`, admin)).status).toBe(204)
    expect((await list()).meta.total).toBe(0)
  })

  it('every change is announced as a domain event, after it happened, with the request id', async () => {
    const [alice, bob, admin] = [await signUp(url), await signUp(url), await signUpAdmin()]
    const seen: { name: string; requestId?: string; payload: unknown }[] = []
    const off = app.app.services.events.onAny((event) => void seen.push(event))
    try {
      const post = await createPost(alice)
      const commented = await fetch(`${url}/api/posts/${post.id}/comments`, {
        method: 'POST',
        headers: {
          ...bearer(bob.accessToken),
          'content-type': 'application/json',
          'x-request-id': 'trace-comment',
        },
        body: JSON.stringify({ body: 'hi' }),
      })
      expect(commented.status).toBe(201)
      await call('PATCH', `/api/posts/${post.id}`, alice, { title: 'changed' })
      await call('DELETE', `/api/posts/${post.id}`, alice)
      await call('DELETE', `/api/users/${bob.user.id}`, admin)
      const mine = seen.filter(
        (e) =>
          JSON.stringify(e.payload).includes(post.id) ||
          JSON.stringify(e.payload).includes(bob.user.id),
      )
      expect(mine.map((e) => e.name)).toEqual([
        'post.created',
        'comment.created',
        'post.updated',
        'post.deleted',
        'user.deleted',
      ])
      expect(mine[1]).toMatchObject({
        requestId: 'trace-comment',
        payload: {
          post: { id: post.id, authorId: alice.user.id },
          comment: { authorId: bob.user.id },
        },
      })
    } finally {
      off()
    }
  })

  it('the services work without HTTP (for workers and scripts), with the same rules', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const posts = app.service('posts')
    const created = await posts.create(
      alice.user.id,
      { title: 'Scripted', body: 'b' },
      {
        id: alice.user.id,
        role: 'user',
      },
    )
    expect((await posts.get(created.id)).title).toBe('Scripted')
    await expect(
      posts.update(created.id, { title: 'nope' }, { id: bob.user.id, role: 'user' }),
    ).rejects.toMatchObject({ status: 403 })
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
    expect(first.meta).toMatchObject({ page: 1, limit: 20 })
    expect(first.meta.total).toBeGreaterThanOrEqual(30)
    expect(first.meta.totalPages).toBe(Math.ceil(first.meta.total / 20))
    expect(first.data).toHaveLength(20)
    const second = await json<OffsetList<Post>>(
      await call('GET', `/api/users/${author.user.id}/posts?page=2&limit=20`),
    )
    expect(second.data.length).toBeGreaterThanOrEqual(10)
    expect(new Set([...first.data, ...second.data].map((p) => p.id)).size).toBe(
      first.data.length + second.data.length,
    )
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
      'cursor=%00',
      'page=1&cursor=',
      'extra=1',
    ]) {
      expect((await call('GET', `/api/posts?${query}`)).status, query).toBe(422)
    }
  })

  it('cursor pages are stable while rows are inserted during the scan', async () => {
    const writer = await signUp(url)
    for (let i = 0; i < 21; i++) await createPost(writer, `c${i}`)
    const seen: string[] = []
    let cursor = ''
    let pages = 0
    for (;;) {
      const page = await json<CursorList<Post>>(
        await call('GET', `/api/users/${writer.user.id}/posts?limit=7&cursor=${cursor}`),
      )
      seen.push(...page.data.map((p) => p.id))
      pages++
      // new posts arrive while the client pages
      await Promise.all([createPost(writer, 'late'), createPost(writer, 'late')])
      if (!page.meta.hasMore || !page.meta.nextCursor) break
      cursor = page.meta.nextCursor
    }
    expect(pages).toBe(3)
    expect(seen).toHaveLength(21)
    expect(new Set(seen).size).toBe(21)
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

  it('documents the auth and REST routes, built from their own zod schemas', async () => {
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
    const alice = await signUp(url)
    const doc = await json<Document>(await call('GET', '/openapi.json'))
    const id = '00000000-0000-4000-8000-000000000000'
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        if (path === '/api/auth/logout-all') continue // it would end alice's session
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
