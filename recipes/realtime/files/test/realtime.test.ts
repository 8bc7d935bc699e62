import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import { defineModule } from '../src/module.js'
import { realtime } from '../src/realtime/module.js'
import { redis } from '../src/redis/module.js'
import { rest } from '../src/rest/module.js'
import { json, startApp, type TestApp } from './support/app.js'
import { authTestEnv, bearer, post, type Session, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import {
  type ClientSocket,
  connectSocketIo,
  connectWs,
  nextEvent,
  sleep,
  subscribeSocketIo,
  type WsClient,
  wsRefusal,
} from './support/realtime.js'
import { useRedisPrefix } from './support/redis.js'
import { TcpProxy } from './support/tcp-proxy.js'

// Two running instances (A and B) on one database and one Redis prefix, as behind a load
// balancer: a client connected to one hears what happens through the other.

const db = useTestDatabase()
const testRedis = useRedisPrefix()
const modules = [database, redis, auth, rest, realtime]
const allowedOrigin = 'https://app.example'
const env = {
  DATABASE_URL: db.url,
  ...testRedis.env,
  ...authTestEnv,
  CORS_ORIGINS: allowedOrigin,
  REALTIME_MAX_PAYLOAD_BYTES: '4096',
}
let a: TestApp
let b: TestApp
const clients: { close(): unknown }[] = []
const track = <T extends { close(): unknown }>(client: T): T => {
  clients.push(client)
  return client
}

beforeAll(async () => {
  ;[a, b] = await Promise.all([
    startApp({ modules, env, captureLogs: true }),
    startApp({ modules, env, captureLogs: true }),
  ])
})
afterAll(async () => {
  for (const client of clients) client.close()
  await Promise.all([a?.close(), b?.close()])
})

async function createPost(session: Session): Promise<{ id: string }> {
  const res = await post(
    `${a.url}/api/users/${session.user.id}/posts`,
    { title: 'Live', body: 'text' },
    bearer(session.accessToken),
  )
  expect(res.status).toBe(201)
  return json(res)
}

async function comment(via: TestApp, session: Session, postId: string, body: string) {
  const res = await post(
    `${via.url}/api/posts/${postId}/comments`,
    { body },
    bearer(session.accessToken),
  )
  expect(res.status).toBe(201)
  return json<{ id: string; postId: string; body: string }>(res)
}

const wsClient = async (app: TestApp, token: string): Promise<WsClient> => {
  const client = await connectWs(app.url, { headers: bearer(token) })
  track(client.socket)
  return client
}

const sio = async (app: TestApp, token: string, options = {}): Promise<ClientSocket> =>
  track(await connectSocketIo(app.url, token, options))

describe('comment:created reaches the post’s subscribers on every instance', () => {
  it('a Socket.IO client on A receives a comment created through B', async () => {
    const author = await signUp(a.url)
    const { id: postId } = await createPost(author)
    const reader = await sio(a, author.accessToken)
    expect(await subscribeSocketIo(reader, postId)).toEqual({ ok: true })
    const received = nextEvent(reader, 'comment:created')
    const created = await comment(b, author, postId, 'through B')
    expect(await received).toEqual(created)
  })

  it('a ws client on A receives it too, and one on B (the same instance)', async () => {
    const author = await signUp(a.url)
    const { id: postId } = await createPost(author)
    const [onA, onB] = [
      await wsClient(a, author.accessToken),
      await wsClient(b, author.accessToken),
    ]
    expect(await onA.request('post:subscribe', { postId })).toEqual({ ok: true })
    expect(await onB.request('post:subscribe', { postId })).toEqual({ ok: true })
    const created = await comment(b, author, postId, 'for ws')
    for (const client of [onA, onB]) {
      const frame = await client.waitFor((f) => f.event === 'comment:created')
      expect(frame.data).toEqual(created)
    }
  })

  it('over Socket.IO long-polling too (the raw-body route), and only for the posts followed', async () => {
    const author = await signUp(a.url)
    const [followed, other] = [await createPost(author), await createPost(author)]
    const reader = await sio(b, author.accessToken, { transports: ['polling'] })
    expect(reader.io.engine.transport.name).toBe('polling')
    expect(await subscribeSocketIo(reader, followed.id)).toEqual({ ok: true })
    const seen: string[] = []
    reader.on('comment:created', (c: { postId: string }) => seen.push(c.postId))
    await comment(a, author, other.id, 'not followed')
    const created = await comment(a, author, followed.id, 'followed')
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual([created.postId])
  })

  it('unsubscribing stops them; a missing post or a malformed id is refused in the ack', async () => {
    const author = await signUp(a.url)
    const { id: postId } = await createPost(author)
    const client = await wsClient(a, author.accessToken)
    expect(await client.request('post:subscribe', { postId })).toEqual({ ok: true })
    expect(await client.request('post:unsubscribe', { postId })).toEqual({ ok: true })
    await comment(a, author, postId, 'after unsubscribing')
    const missing = await client.request('post:subscribe', {
      postId: '00000000-0000-4000-8000-000000000000',
    })
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    const malformed = await client.request('post:subscribe', { postId: 'x' })
    expect(malformed).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } })
    expect(client.frames.some((f) => f.event === 'comment:created')).toBe(false)
    const socket = await sio(b, author.accessToken)
    expect(await subscribeSocketIo(socket, 42)).toMatchObject({ ok: false })
  })
})

describe('the event bus', () => {
  it('a subscriber that fails fails neither the comment nor its broadcast', async () => {
    const failing = defineModule({
      name: 'failing-subscriber',
      env: z.object({}),
      init({ services }) {
        services.events.on('comment.created', () => {
          throw new Error('this subscriber broke')
        })
        return {}
      },
    })
    const app = await startApp({
      modules: [database, redis, auth, rest, failing, realtime],
      env,
      captureLogs: true,
    })
    try {
      const author = await signUp(app.url)
      const { id: postId } = await createPost(author)
      const client = await wsClient(app, author.accessToken)
      await client.request('post:subscribe', { postId })
      const created = await comment(app, author, postId, 'despite a broken subscriber')
      expect((await client.waitFor((f) => f.event === 'comment:created')).data).toEqual(created)
      const failure = app.logs().find((line) => line.msg === 'event subscriber failed')
      expect(failure).toMatchObject({
        event: 'comment.created',
        err: { message: 'this subscriber broke' },
      })
    } finally {
      await app.close()
    }
  })
})

describe('typing', () => {
  it('reaches the others in the room on both instances and transports, never the sender', async () => {
    const [writer, reader] = [await signUp(a.url), await signUp(a.url)]
    const { id: postId } = await createPost(writer)
    const typist = await sio(a, writer.accessToken)
    const sioReader = await sio(b, reader.accessToken)
    const wsReader = await wsClient(a, reader.accessToken)
    const outsider = await sio(b, reader.accessToken) // connected, not following the post
    await subscribeSocketIo(typist, postId)
    await subscribeSocketIo(sioReader, postId)
    await wsReader.request('post:subscribe', { postId })
    const typed: string[] = []
    typist.on('typing', () => typed.push('typist'))
    outsider.on('typing', () => typed.push('outsider'))
    const toSio = nextEvent(sioReader, 'typing')
    typist.emit('typing', { postId })
    expect(await toSio).toEqual({ postId, userId: writer.user.id })
    const toWs = await wsReader.waitFor((f) => f.event === 'typing')
    expect(toWs.data).toEqual({ postId, userId: writer.user.id })
    await sleep(300)
    expect(typed).toEqual([])
  })

  it('from a ws client: to the Socket.IO clients in the room, not back to itself', async () => {
    const [writer, reader] = [await signUp(a.url), await signUp(a.url)]
    const { id: postId } = await createPost(writer)
    const typist = await wsClient(b, writer.accessToken)
    const sioReader = await sio(a, reader.accessToken)
    await typist.request('post:subscribe', { postId })
    await subscribeSocketIo(sioReader, postId)
    const toSio = nextEvent(sioReader, 'typing')
    typist.socket.send(JSON.stringify({ event: 'typing', data: { postId } }))
    expect(await toSio).toEqual({ postId, userId: writer.user.id })
    await sleep(300)
    expect(typist.frames.filter((f) => f.event === 'typing')).toEqual([])
  })
})

/** A token made by hand (header, payload, HMAC), to refuse the ones REST refuses. */
function forge(
  claims: Record<string, unknown>,
  options: { alg?: string; exp?: number; signature?: string } = {},
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const header = encode({ alg: options.alg ?? 'HS256', typ: 'at+jwt' })
  const payload = encode({
    iss: authTestEnv.JWT_ISSUER,
    aud: authTestEnv.JWT_AUDIENCE,
    iat: now,
    exp: options.exp ?? now + 600,
    ver: 0,
    role: 'user',
    ...claims,
  })
  const signature =
    options.signature ??
    createHmac('sha256', authTestEnv.JWT_SECRET).update(`${header}.${payload}`).digest('base64url')
  return `${header}.${payload}.${signature}`
}

describe('the handshake refuses what REST refuses', () => {
  let session: Session
  beforeAll(async () => {
    session = await signUp(a.url)
  })

  const badTokens: [string, () => Promise<string | undefined>][] = [
    ['no token', async () => undefined],
    ['garbage', async () => 'not.a.jwt'],
    [
      'an expired token',
      async () => forge({ sub: session.user.id }, { exp: Math.floor(Date.now() / 1000) - 120 }),
    ],
    [
      'a tampered token (payload changed to admin)',
      async () => {
        const [header, payload, signature] = session.accessToken.split('.')
        const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString())
        const changed = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString(
          'base64url',
        )
        return `${header}.${changed}.${signature}`
      },
    ],
    ['alg: none', async () => forge({ sub: session.user.id }, { alg: 'none', signature: '' })],
    [
      'a revoked token (logout everywhere)',
      async () => {
        const other = await signUp(a.url)
        const res = await post(`${a.url}/api/auth/logout-all`, {}, bearer(other.accessToken))
        expect(res.status).toBe(204)
        return other.accessToken
      },
    ],
  ]

  it('control: the same user connects with the token it got from login', async () => {
    await expect(sio(a, session.accessToken)).resolves.toBeDefined()
    expect(await wsRefusal(a.url, { headers: bearer(session.accessToken) })).toBe(0)
  })

  it.each(badTokens)('Socket.IO: %s → connect_error "unauthorized"', async (_name, make) => {
    const token = await make()
    const error = await connectSocketIo(a.url, token).then(
      (socket) => {
        socket.close()
        return undefined
      },
      (e: Error) => e,
    )
    expect(error?.message).toBe('unauthorized')
  })

  it.each(badTokens)('/ws: %s → 401 on the upgrade', async (_name, make) => {
    const token = await make()
    expect(await wsRefusal(a.url, token ? { headers: bearer(token) } : {})).toBe(401)
    if (token) expect(await wsRefusal(a.url, { protocols: ['bearer', token] })).toBe(401)
  })

  it('a browser passes the token as a subprotocol and gets `bearer` back, never the token', async () => {
    const client = await connectWs(a.url, { protocols: ['bearer', session.accessToken] })
    track(client.socket)
    expect(client.socket.protocol).toBe('bearer')
  })

  /** A /ws handshake with the token in the query string, as a careless client would send it. */
  const tokenInUrl = async (token: string) => {
    const { WebSocket } = await import('ws')
    return new Promise<number>((resolve) => {
      const socket = new WebSocket(`${a.url.replace('http', 'ws')}/ws?access_token=${token}`)
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      socket.once('open', () => {
        socket.close()
        resolve(101)
      })
    })
  }

  it('a token in the URL is not read: 401', async () => {
    expect(await tokenInUrl(session.accessToken)).toBe(401)
  })

  it('a browser Origin outside CORS_ORIGINS is refused on both endpoints; an allowed one is not', async () => {
    const origin = (value: string) => ({
      headers: { ...bearer(session.accessToken), origin: value },
    })
    expect(await wsRefusal(a.url, origin('https://evil.example'))).toBe(403)
    expect(await wsRefusal(a.url, origin(allowedOrigin))).toBe(0)
    const handshake = (value: string) =>
      fetch(`${a.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: value } })
    const foreign = await handshake('https://evil.example')
    expect(foreign.status).toBe(403)
    const allowed = await handshake(allowedOrigin)
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(allowedOrigin)
    await expect(
      connectSocketIo(a.url, session.accessToken, {
        extraHeaders: { origin: 'https://evil.example' },
      }),
    ).rejects.toThrow()
    await expect(
      sio(a, session.accessToken, { extraHeaders: { origin: allowedOrigin } }),
    ).resolves.toBeDefined()
  })

  it('no log line holds a token, whichever way it was sent', async () => {
    const before = a.logs().length
    // Long-polling first, then the upgrade: every request of the polling transport is logged.
    const client = await sio(a, session.accessToken, { transports: ['polling', 'websocket'] })
    await subscribeSocketIo(client, '00000000-0000-4000-8000-000000000000')
    await sleep(200)
    track(await connectWs(a.url, { headers: bearer(session.accessToken) }).then((c) => c.socket))
    track(
      await connectWs(a.url, { protocols: ['bearer', session.accessToken] }).then((c) => c.socket),
    )
    expect(await tokenInUrl(session.accessToken)).toBe(401)
    expect(await wsRefusal(a.url, { headers: bearer(`${session.accessToken}x`) })).toBe(401)
    const lines = a
      .logs()
      .slice(before)
      .map((line) => JSON.stringify(line))
    expect(lines.some((line) => line.includes('/socket.io/'))).toBe(true)
    expect(lines.some((line) => line.includes('WebSocket refused'))).toBe(true)
    expect(lines.filter((line) => line.includes(session.accessToken))).toEqual([])
    expect(lines.filter((line) => /eyJ[\w-]+\.eyJ/.test(line))).toEqual([])
  })
})

describe('limits', () => {
  it('a message over REALTIME_MAX_PAYLOAD_BYTES closes the connection with 1009, on both endpoints', async () => {
    const session = await signUp(a.url)
    const client = await wsClient(a, session.accessToken)
    client.socket.send(JSON.stringify({ event: 'typing', data: { postId: 'x'.repeat(5_000) } }))
    expect(await client.closed).toBe(1009)

    // Socket.IO's WebSocket transport, spoken by hand: Engine.IO open, CONNECT, one large event.
    const { WebSocket } = await import('ws')
    const raw = new WebSocket(`${a.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
    track(raw)
    const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)))
    await new Promise((resolve) => raw.once('message', resolve)) // "0{…}": the engine is open
    raw.send(`40${JSON.stringify({ token: session.accessToken })}`)
    await new Promise((resolve) => raw.once('message', resolve)) // "40{sid}": connected
    raw.send(`42${JSON.stringify(['typing', { postId: 'x'.repeat(5_000) }])}`)
    expect(await closed).toBe(1009)
  })

  it('a binary or malformed /ws frame: 1003, or an error frame', async () => {
    const session = await signUp(a.url)
    const client = await wsClient(a, session.accessToken)
    client.socket.send('{"event":"nope"}')
    const error = await client.waitFor((f) => f.event === 'error')
    expect(error.data).toMatchObject({ code: 'BAD_FRAME' })
    client.socket.send(Buffer.from([1, 2, 3]))
    expect(await client.closed).toBe(1003)
  })
})

describe('heartbeats and sessions', () => {
  let quick: TestApp
  beforeAll(async () => {
    quick = await startApp({
      modules,
      env: {
        ...env,
        REALTIME_PING_INTERVAL_MS: '200',
        REALTIME_PING_TIMEOUT_MS: '300',
        REALTIME_SESSION_CHECK_MS: '200',
      },
    })
  })
  afterAll(() => quick.close())

  it('a /ws client that stops answering pings is dropped; one that answers stays', async () => {
    const session = await signUp(quick.url)
    const dead = await connectWs(quick.url, {
      headers: bearer(session.accessToken),
      autoPong: false,
    })
    const alive = await wsClient(quick, session.accessToken)
    track(dead.socket)
    expect(await dead.closed).toBe(1006) // terminated: no close frame for a peer presumed gone
    expect(alive.socket.readyState).toBe(alive.socket.OPEN)
  })

  it('a Socket.IO client that stops answering pings is dropped', async () => {
    const session = await signUp(quick.url)
    const { WebSocket } = await import('ws')
    const raw = new WebSocket(
      `${quick.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`,
    )
    track(raw)
    const frames: string[] = []
    raw.on('message', (data) => frames.push(data.toString()))
    const closed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)))
    await new Promise((resolve) => raw.once('open', resolve))
    raw.send(`40${JSON.stringify({ token: session.accessToken })}`)
    // Engine.IO pings ("2") and this client never answers ("3").
    const started = Date.now()
    await closed
    expect(frames.filter((f) => f === '2').length).toBeGreaterThanOrEqual(1)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('connections whose session ends (logout everywhere) are closed: ws 1008, Socket.IO by the server', async () => {
    const session = await signUp(quick.url)
    const client = await wsClient(quick, session.accessToken)
    const socket = await sio(quick, session.accessToken)
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve))
    const res = await post(`${quick.url}/api/auth/logout-all`, {}, bearer(session.accessToken))
    expect(res.status).toBe(204)
    expect(await client.closed).toBe(1008)
    expect(await disconnected).toBe('io server disconnect')
  })
})

describe('Redis away for a while', () => {
  it('an instance started while Redis is down serves its sockets, and hears the others once Redis is back', {
    timeout: 30_000,
  }, async () => {
    const proxy = await TcpProxy.start(testRedis.env.REDIS_URL)
    await proxy.cut()
    const started = performance.now()
    const late = await startApp({
      modules,
      env: { ...env, REDIS_URL: proxy.url(testRedis.env.REDIS_URL) },
    })
    try {
      expect(performance.now() - started).toBeLessThan(5_000)
      const author = await signUp(a.url)
      const { id: postId } = await createPost(author)
      const client = await wsClient(late, author.accessToken)
      expect(await client.request('post:subscribe', { postId })).toEqual({ ok: true })
      await proxy.restore()
      // Comments through A until one reaches the client on the late instance (it resubscribes
      // to the other instances' messages once its connection is back).
      let heard = false
      for (let attempt = 0; attempt < 40 && !heard; attempt++) {
        await comment(a, author, postId, `attempt ${attempt}`)
        heard = await client
          .waitFor((f) => f.event === 'comment:created', 500)
          .then(() => true)
          .catch(() => false)
      }
      expect(heard).toBe(true)
    } finally {
      await late.close()
      await proxy.close()
    }
  })

  it('a Socket.IO broadcast made meanwhile still reaches the other instance (streams adapter)', async () => {
    const proxy = await TcpProxy.start(testRedis.env.REDIS_URL)
    const cutOff = await startApp({
      modules,
      env: { ...env, REDIS_URL: proxy.url(testRedis.env.REDIS_URL) },
    })
    try {
      const author = await signUp(a.url)
      const { id: postId } = await createPost(author)
      const reader = await sio(a, author.accessToken)
      await subscribeSocketIo(reader, postId)
      const received = nextEvent(reader, 'comment:created', 10_000)
      await sleep(200) // the cut-off instance's adapter is reading the stream
      await proxy.cut()
      const created = await comment(cutOff, author, postId, 'while Redis was away')
      await sleep(500)
      await proxy.restore()
      expect(await received).toEqual(created)
    } finally {
      await cutOff.close()
      await proxy.close()
    }
  })
})
