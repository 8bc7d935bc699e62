import { createHmac, randomUUID } from 'node:crypto'
import type { Job } from 'bullmq'
import { z } from 'zod'
import { defineJob, handleJob } from '../queues/jobs.js'
import type { StoredEvent } from '../queues/outbox.js'
import type { Queues } from '../queues/queues.js'

export interface WebhookSettings {
  url: string
  /** Signs every delivery (HMAC-SHA256); none: deliveries are unsigned. */
  secret?: string | undefined
  timeoutMs: number
  attempts: number
  backoffMs: number
  /** Sent as User-Agent. */
  sender: string
}

/** The events a webhook receives (user events stay inside: they carry email addresses). */
export const webhookEvents: ReadonlySet<string> = new Set([
  'post.created',
  'post.updated',
  'post.deleted',
  'comment.created',
])

export const deliverWebhook = defineJob({
  queue: 'webhooks',
  name: 'deliver',
  schema: z.object({
    /** The event's id: the same on every attempt (receivers deduplicate with it). */
    id: z.string().min(1),
    type: z.string().min(1),
    occurredAt: z.iso.datetime({ offset: true }),
    requestId: z.string().optional(),
    data: z.unknown(),
  }),
})

/** The URL as error messages show it: no credentials, no query string (it may hold a token). */
export function describeUrl(url: string): string {
  const { origin, pathname } = new URL(url)
  return `${origin}${pathname}`
}

/** Standard Webhooks' signature: `v1,` + base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64')
  return `v1,${mac}`
}

/** What failed, in words an operator understands when they read `queue inspect`. */
function deliveryError(url: string, error: unknown): Error {
  const target = describeUrl(url)
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new Error(`POST ${target} timed out`)
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return new Error(`POST ${target} failed: ${cause?.message ?? (error as Error).message}`)
}

/**
 * Outbound webhooks to WEBHOOK_URL (Standard Webhooks headers: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`). Each delivery is a job of the `webhooks` queue, tried `attempts` times
 * with exponential backoff, so a receiver that is down gets its events when it is back, and one
 * that stays down leaves failed jobs saying why (`POST … answered 503`).
 */
export class Webhooks {
  constructor(
    private readonly settings: WebhookSettings,
    private readonly queues: Queues,
  ) {}

  /** The delivery job of an event (added once: the job id is the event id). */
  enqueue(event: StoredEvent): Promise<Job> {
    return this.queues.add(
      deliverWebhook,
      {
        id: event.id,
        type: event.name,
        occurredAt: event.occurredAt,
        ...(event.requestId ? { requestId: event.requestId } : {}),
        data: event.payload,
      },
      {
        jobId: `evt-${event.id}`,
        attempts: this.settings.attempts,
        backoff: { type: 'exponential', delay: this.settings.backoffMs },
      },
    )
  }

  /** A `webhook.test` delivery, to check the receiver end to end. */
  ping(requestedBy: string): Promise<Job> {
    const id = randomUUID()
    return this.enqueue({
      id,
      name: 'webhook.test',
      occurredAt: new Date().toISOString(),
      payload: { requestedBy },
    })
  }

  /** The job handler: one POST; a non-2xx answer or a network error fails the attempt. */
  handler() {
    return handleJob(deliverWebhook, async (delivery) => {
      const { url, secret, timeoutMs, sender } = this.settings
      const body = JSON.stringify({
        id: delivery.id,
        type: delivery.type,
        occurredAt: delivery.occurredAt,
        data: delivery.data,
      })
      const timestamp = Math.floor(Date.now() / 1000)
      let response: Response
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': sender,
            'webhook-id': delivery.id,
            'webhook-timestamp': String(timestamp),
            ...(secret
              ? { 'webhook-signature': signWebhook(secret, delivery.id, timestamp, body) }
              : {}),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        })
        await response.body?.cancel()
      } catch (error) {
        throw deliveryError(url, error)
      }
      if (response.status < 200 || response.status > 299) {
        throw new Error(
          `POST ${describeUrl(url)} answered ${response.status} ${response.statusText}`.trim(),
        )
      }
      return { status: response.status }
    })
  }
}
