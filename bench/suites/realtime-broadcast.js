// Broadcast latency of the realtime recipe: 1,000 Socket.IO clients (WebSocket transport) spread
// over two instances of a generated service, all following one post. One client emits `typing`:
// the 999 others receive it, half of them through the other instance (Redis streams adapter).
// Then a comment written through the API reaches all 1,000 (HTTP + PostgreSQL + the event bus +
// the adapter). Latencies are measured in this process, from the emit (or the POST) to each
// receipt; 1,000 sockets on each side (the fd limit here is 20,000).
//
// The clients run here, on the same two cores as both instances, Redis and PostgreSQL, and one
// process receives every copy: with socket.io-client, its own decoding of 999 packets per round
// is most of what is measured. So the main figures come from clients that speak the Socket.IO
// protocol over a plain WebSocket (open, CONNECT with the token, acknowledged subscribe, pong) and
// only look at each packet's event name; the same rounds with socket.io-client follow.
import { io } from 'socket.io-client'
import { WebSocket } from 'ws'
import { waitForQuiet } from '../lib.js'
import { percentile, postJson, servedProject, signUp } from '../service.js'

const CLIENTS = 1_000
const TYPING_ROUNDS = 100
const COMMENT_ROUNDS = 30
const WARMUP_ROUNDS = 10

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const round1 = (ms) => Math.round(ms * 10) / 10

/**
 * A Socket.IO client on the WebSocket transport, by hand: Engine.IO open, CONNECT (`40`) with the
 * token, `post:subscribe` with an acknowledgement (`420[…]` → `430[…]`), pong (`3`) to each ping
 * (`2`). `on(event, listener)` sees the event name of each `42[…]` packet, nothing more.
 */
function leanClient(base, token, postId) {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
  const listeners = new Map()
  const client = {
    emit: (event, data) => socket.send(`42${JSON.stringify([event, data])}`),
    on: (event, listener) => listeners.set(event, listener),
    off: (event) => listeners.delete(event),
    close: () => socket.close(),
  }
  return new Promise((resolve, reject) => {
    socket.on('message', (raw) => {
      const packet = raw.toString()
      if (packet === '2') return socket.send('3')
      if (packet.startsWith('0')) return socket.send(`40${JSON.stringify({ token })}`)
      if (packet.startsWith('40')) {
        return socket.send(`420${JSON.stringify(['post:subscribe', { postId }])}`)
      }
      if (packet.startsWith('430')) return resolve(client)
      if (packet.startsWith('44')) return reject(new Error(`refused: ${packet}`))
      if (packet.startsWith('42["')) {
        const name = packet.slice(4, packet.indexOf('"', 4))
        listeners.get(name)?.()
      }
    })
    socket.once('error', reject)
  })
}

/** The same, with socket.io-client. */
async function socketIoClient(base, token, postId) {
  const socket = io(base, { transports: ['websocket'], reconnection: false, auth: { token } })
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
  await socket.timeout(10_000).emitWithAck('post:subscribe', { postId })
  return {
    emit: (event, data) => socket.emit(event, data),
    on: (event, listener) => socket.on(event, listener),
    off: (event) => socket.off(event),
    close: () => socket.close(),
  }
}

/** Runs `emit` and resolves with the latency of every receipt of `event` by `receivers`. */
function broadcastRound(receivers, event, emit, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const latencies = []
    const stopListening = () => {
      for (const socket of receivers) socket.off(event)
    }
    const timer = setTimeout(() => {
      stopListening()
      reject(
        new Error(`${event}: ${latencies.length} of ${receivers.length} within ${timeoutMs} ms`),
      )
    }, timeoutMs)
    let started = 0
    for (const socket of receivers) {
      socket.on(event, () => {
        latencies.push(performance.now() - started)
        socket.off(event)
        if (latencies.length < receivers.length) return
        clearTimeout(timer)
        stopListening()
        resolve(latencies)
      })
    }
    started = performance.now()
    Promise.resolve(emit()).catch(reject)
  })
}

function summarize(rounds) {
  const all = rounds.flat()
  const lastOfEach = rounds.map((latencies) => Math.max(...latencies))
  return {
    rounds: rounds.length,
    deliveries: all.length,
    p50Ms: round1(percentile(all, 50)),
    p99Ms: round1(percentile(all, 99)),
    maxMs: round1(Math.max(...all)),
    allReceivedP50Ms: round1(percentile(lastOfEach, 50)),
    allReceivedP99Ms: round1(percentile(lastOfEach, 99)),
  }
}

export const description = `${CLIENTS} Socket.IO clients over two instances: one emit → all received (typing relay; a comment through the API)`

/** Connects the clients with `connect`, runs the rounds, closes the clients. */
async function measure(connect, { a, b, author, post }, typingRounds) {
  const sockets = []
  try {
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          connect((i + j) % 2 ? b.base : a.base, author.accessToken, post.id),
        ),
      )
      sockets.push(...batch)
    }
    // typing: each round another client emits (the relay is throttled per client and post).
    const typing = []
    for (let round = 0; round < WARMUP_ROUNDS + typingRounds; round++) {
      const emitter = sockets[round % CLIENTS]
      const receivers = sockets.filter((socket) => socket !== emitter)
      const latencies = await broadcastRound(receivers, 'typing', () =>
        emitter.emit('typing', { postId: post.id }),
      )
      if (round >= WARMUP_ROUNDS) typing.push(latencies)
      await sleep(50)
    }
    const comments = []
    for (let round = 0; round < WARMUP_ROUNDS + COMMENT_ROUNDS; round++) {
      const via = round % 2 ? b : a
      const latencies = await broadcastRound(sockets, 'comment:created', () =>
        postJson(
          `${via.base}/api/posts/${post.id}/comments`,
          { body: `#${round}` },
          author.headers,
        ),
      )
      if (round >= WARMUP_ROUNDS) comments.push(latencies)
      await sleep(100)
    }
    return { typingRelay: summarize(typing), commentThroughApi: summarize(comments) }
  } finally {
    for (const socket of sockets) socket.close()
    await sleep(500)
  }
}

export async function run() {
  const loadBefore = await waitForQuiet()
  const project = await servedProject('rt', ['--recipes', 'realtime'])
  try {
    const [a, b] = [await project.start(), await project.start()]
    const author = await signUp(a.base, 'bench_author')
    const post = await postJson(
      `${a.base}/api/users/${author.id}/posts`,
      { title: 'Live', body: 'Broadcast benchmark' },
      author.headers,
    )
    const setup = { a, b, author, post }
    const lean = await measure(leanClient, setup, TYPING_ROUNDS)
    const withSocketIoClient = await measure(socketIoClient, setup, TYPING_ROUNDS / 2)
    return {
      clients: CLIENTS,
      instances: 2,
      loadAverageBefore: loadBefore,
      ...lean,
      withSocketIoClient,
      target: 'typing relay p99 < 100 ms',
    }
  } finally {
    await project.cleanup()
  }
}

export function summary(r) {
  const line = (label, s) =>
    `${label.padEnd(34)} p50 ${s.p50Ms} ms   p99 ${s.p99Ms} ms   max ${s.maxMs} ms   all received: p50 ${s.allReceivedP50Ms} ms, p99 ${s.allReceivedP99Ms} ms   (${s.rounds} rounds, ${s.deliveries} deliveries)`
  return [
    `${r.clients} clients on ${r.instances} instances (load average before: ${r.loadAverageBefore})`,
    line('typing relay (one emit → 999)', r.typingRelay),
    line('comment via the API (→ 1,000)', r.commentThroughApi),
    'the same with socket.io-client (its decoding, in this one process, is measured too):',
    line('typing relay (one emit → 999)', r.withSocketIoClient.typingRelay),
    line('comment via the API (→ 1,000)', r.withSocketIoClient.commentThroughApi),
  ].join('\n')
}
