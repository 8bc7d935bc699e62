import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders
  body: string
  /** The body's `id` and `type` (Standard Webhooks). */
  id: string
  type: string
  receivedAt: number
}

export interface WebhookReceiver {
  url: string
  received: ReceivedWebhook[]
  /** The status to answer a webhook with (default: 204 to everything). */
  answer: (webhook: ReceivedWebhook) => number
  /** Each answer waits this long. */
  delayMs: number
  /** Requests being answered right now, and the most at once. */
  inFlight: number
  maxInFlight: number
  close(): Promise<void>
}

/** An HTTP endpoint that records the webhooks it receives and answers as the test says. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const server = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      let parsed: { id?: unknown; type?: unknown } = {}
      try {
        parsed = JSON.parse(body)
      } catch {}
      const webhook = {
        headers: req.headers,
        body,
        id: String(parsed.id),
        type: String(parsed.type),
        receivedAt: Date.now(),
      }
      receiver.received.push(webhook)
      receiver.inFlight++
      receiver.maxInFlight = Math.max(receiver.maxInFlight, receiver.inFlight)
      const status = receiver.answer(webhook)
      setTimeout(() => {
        receiver.inFlight--
        res.statusCode = status
        res.end()
      }, receiver.delayMs)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received: [],
    answer: () => 204,
    delayMs: 0,
    inFlight: 0,
    maxInFlight: 0,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  return receiver
}
