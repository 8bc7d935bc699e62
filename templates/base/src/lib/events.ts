import type { Logger } from './logger.js'
import { requestContext } from './request-context.js'

/**
 * The domain events modules emit and others react to, by name. Each module declares the events
 * it emits next to its own code, by declaration merging:
 *
 * ```ts
 * declare module '../lib/events.js' {
 *   interface DomainEvents { 'post.created': { post: PostView } }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging
export interface DomainEvents {}

export type EventName = keyof DomainEvents & string

export interface DomainEvent<K extends EventName = EventName> {
  name: K
  payload: DomainEvents[K]
  /** When it was emitted (ISO 8601). */
  occurredAt: string
  /** The request that caused it, when there was one: its id follows the event into jobs. */
  requestId?: string
}

export type EventHandler<K extends EventName = EventName> = (
  event: DomainEvent<K>,
) => unknown | Promise<unknown>

/**
 * A typed, in-process event bus for side effects: the module that changes something emits, the
 * modules that care subscribe, and neither knows the other. A failing subscriber is logged and
 * never fails the emitter (the change it reports has happened). Work that must not be lost when
 * the process dies belongs in a queue or an outbox, enqueued by a subscriber.
 */
export interface EventBus {
  /** Runs every subscriber of `name` (concurrently) and resolves when all are done; never rejects. */
  emit<K extends EventName>(name: K, payload: DomainEvents[K]): Promise<void>
  on<K extends EventName>(name: K, handler: EventHandler<K>): () => void
  /** Every event (e.g. to publish them all to a broker). */
  onAny(handler: EventHandler): () => void
}

export class InProcessEventBus implements EventBus {
  private readonly handlers = new Map<string, Set<EventHandler>>()
  private readonly any = new Set<EventHandler>()

  constructor(private readonly logger: Logger) {}

  async emit<K extends EventName>(name: K, payload: DomainEvents[K]): Promise<void> {
    const requestId = requestContext.getStore()?.requestId
    const event: DomainEvent<K> = {
      name,
      payload,
      occurredAt: new Date().toISOString(),
      ...(requestId ? { requestId } : {}),
    }
    const handlers = [...(this.handlers.get(name) ?? []), ...this.any]
    await Promise.all(
      handlers.map(async (handler) => {
        try {
          await handler(event as unknown as DomainEvent)
        } catch (error) {
          this.logger.error({ err: error, event: name }, 'event subscriber failed')
        }
      }),
    )
  }

  on<K extends EventName>(name: K, handler: EventHandler<K>): () => void {
    const set = this.handlers.get(name) ?? new Set()
    this.handlers.set(name, set)
    set.add(handler as unknown as EventHandler)
    return () => set.delete(handler as unknown as EventHandler)
  }

  onAny(handler: EventHandler): () => void {
    this.any.add(handler)
    return () => this.any.delete(handler)
  }
}
