import { randomUUID } from 'node:crypto'
import { canModify } from '../auth/middleware.js'
import type { Db } from '../db/database.js'
import { KeyedQueue } from '../event-store/keyed-queue.js'
import type { ProjectionRunner } from '../event-store/projection-runner.js'
import type { Snapshots } from '../event-store/snapshots.js'
import { ConcurrencyError, type EventStore, type RecordedEvent } from '../event-store/store.js'
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors.js'
import type { EventBus } from '../lib/events.js'
import type { Logger } from '../lib/logger.js'
import type { ListQuery, Page } from '../lib/pagination.js'
import { requestContext } from '../lib/request-context.js'
import {
  ACCOUNT_SNAPSHOT_SCHEMA,
  ACCOUNT_STREAM,
  type Account,
  type AccountCommand,
  type AccountEvent,
  decide,
  evolve,
} from './account.js'

/** An account as the API shows it. */
export interface AccountView {
  id: string
  ownerId: string
  /** Integer cents. */
  balance: number
  /** How many events the account has: the version of the last one. */
  version: number
}

/** One entry of an account's history. */
export interface AccountEventView {
  version: number
  type: AccountEvent['type']
  data: AccountEvent['data']
  /** Who did it: the owner, or an admin. */
  actorId: string | null
  recordedAt: string
}

declare module '../lib/events.js' {
  interface DomainEvents {
    'account.opened': { account: AccountView }
    'account.deposited': { account: AccountView; amount: number }
    'account.withdrawn': { account: AccountView; amount: number }
  }
}

export interface LedgerOptions {
  /** Snapshot an account every this many events. */
  snapshotEvery: number
  logger: Logger
}

/** A writer that keeps losing the race gives up (409) after retrying this long. */
const RETRY_BUDGET_MS = 2_000
/** A command answers once the read model shows it, or after this long anyway. */
const READ_MODEL_WAIT_MS = 2_000
/** Accounts whose last state this instance keeps, to replay only what was appended since. */
const RECENT_STATES = 10_000

const view = (account: Account): AccountView => ({
  id: account.id,
  ownerId: account.ownerId,
  balance: account.balance,
  version: account.version,
})

const encodeCursor = (version: number) =>
  Buffer.from(JSON.stringify([version])).toString('base64url')

function decodeCursor(cursor: string): number {
  try {
    const [version] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (typeof version === 'number' && Number.isSafeInteger(version) && version > 0) return version
  } catch {
    // falls through
  }
  throw new ValidationError([
    { path: 'query.cursor', message: 'Invalid cursor', code: 'invalid_cursor' },
  ])
}

/**
 * The event-sourced ledger: accounts whose state is the replay of their events (from the latest
 * snapshot on), commands decided on that state and appended with optimistic concurrency, and the
 * balances read model kept by a projection.
 *
 * A command on an account runs one at a time on this instance (a queue per account), so
 * concurrent requests to one instance wait their turn instead of racing; between instances, the
 * unique (stream, version) decides, and the writer that lost reloads the new state and decides
 * again (a withdrawal that no longer fits is then a 409), for up to RETRY_BUDGET_MS, then gets a
 * 409. No update is lost and no balance goes negative, whatever the interleaving.
 */
export class LedgerService {
  private readonly queue = new KeyedQueue()
  /** The state this instance last computed per account (least recently used first). */
  private readonly recent = new Map<string, Account>()
  /** Since start, for metrics and benchmarks: commands recorded and optimistic retries. */
  readonly stats = { commands: 0, retries: 0, lostRaces: 0 }

  constructor(
    private readonly db: Db,
    private readonly store: EventStore,
    private readonly snapshots: Snapshots,
    private readonly balances: ProjectionRunner,
    private readonly events: EventBus,
    private readonly options: LedgerOptions,
  ) {}

  async open(actor: Express.User): Promise<AccountView> {
    const id = randomUUID()
    const opened: AccountEvent = { type: 'AccountOpened', data: { ownerId: actor.id } }
    const [recorded] = await this.db.write
      .transaction()
      .execute((trx) => this.store.append(trx, this.stream(id), 0, [opened], this.metadata(actor)))
    const account = view(evolve(undefined, { ...opened, streamId: id, version: 1 }))
    await this.readModelShows(recorded as RecordedEvent)
    await this.events.emit('account.opened', { account })
    return account
  }

  deposit(id: string, amount: number, actor: Express.User): Promise<AccountView> {
    return this.execute(id, { type: 'deposit', amount }, actor)
  }

  withdraw(id: string, amount: number, actor: Express.User): Promise<AccountView> {
    return this.execute(id, { type: 'withdraw', amount }, actor)
  }

  /** The read model's view of the account (the balances projection). */
  async get(id: string, actor: Express.User): Promise<AccountView> {
    const row = await this.db.read
      .selectFrom('account_balances')
      .select(['account_id', 'owner_id', 'balance', 'version'])
      .where('account_id', '=', id)
      .executeTakeFirst()
    if (!row) throw new NotFoundError('Account not found')
    this.requireOwner(row.owner_id, actor)
    return {
      id: row.account_id,
      ownerId: row.owner_id,
      balance: Number(row.balance),
      version: row.version,
    }
  }

  /** The account's events, newest first, a page at a time (`?page=` or `?cursor=`). */
  async history(
    id: string,
    query: ListQuery,
    actor: Express.User,
  ): Promise<Page<AccountEventView>> {
    const opened = await this.db.write
      .selectFrom('events')
      .select('data')
      .where('stream_id', '=', id)
      .where('stream_type', '=', ACCOUNT_STREAM)
      .where('version', '=', 1)
      .executeTakeFirst()
    if (!opened) throw new NotFoundError('Account not found')
    this.requireOwner((opened.data as { ownerId: string }).ownerId, actor)
    const stream = this.db.read
      .selectFrom('events')
      .select(['version', 'type', 'data', 'metadata', 'recorded_at'])
      .where('stream_id', '=', id)
      .where('stream_type', '=', ACCOUNT_STREAM)
    const present = (row: {
      version: number
      type: string
      data: unknown
      metadata: { actorId?: string }
      recorded_at: Date
    }): AccountEventView => ({
      version: row.version,
      type: row.type as AccountEvent['type'],
      data: row.data as AccountEvent['data'],
      actorId: row.metadata.actorId ?? null,
      recordedAt: row.recorded_at.toISOString(),
    })
    if (query.cursor !== undefined) {
      const before = query.cursor === '' ? undefined : decodeCursor(query.cursor)
      const rows = await (before === undefined ? stream : stream.where('version', '<', before))
        .orderBy('version', 'desc')
        .limit(query.limit + 1)
        .execute()
      const page = rows.slice(0, query.limit)
      const hasMore = rows.length > query.limit
      const last = page.at(-1)
      return {
        data: page.map(present),
        meta: { hasMore, nextCursor: hasMore && last ? encodeCursor(last.version) : null },
      }
    }
    const pageNumber = query.page ?? 1
    const [rows, count] = await Promise.all([
      stream
        .orderBy('version', 'desc')
        .limit(query.limit)
        .offset((pageNumber - 1) * query.limit)
        .execute(),
      this.db.read
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .where('stream_id', '=', id)
        .where('stream_type', '=', ACCOUNT_STREAM)
        .executeTakeFirstOrThrow(),
    ])
    const total = Number(count.total)
    return {
      data: rows.map(present),
      meta: {
        page: pageNumber,
        limit: query.limit,
        total,
        totalPages: Math.ceil(total / query.limit),
      },
    }
  }

  /** The account's current state: the latest snapshot, then the events after it. */
  async load(id: string): Promise<Account | undefined> {
    const snapshot = await this.snapshots.load<Account>(id, ACCOUNT_SNAPSHOT_SCHEMA)
    const events = await this.store.readStream(id, snapshot?.version ?? 0)
    return this.fold(snapshot?.state, events)
  }

  /**
   * The state a command decides on: the one this instance last computed for the account (else
   * the latest snapshot), then the events appended since, read from the log. Like a snapshot it
   * only saves replaying; the log is always read up to its end, and an append based on a state
   * that is behind is refused by the unique version anyway.
   */
  private async current(id: string): Promise<Account | undefined> {
    const known = this.recent.get(id)
    if (!known) return this.load(id)
    return this.fold(known, await this.store.readStream(id, known.version))
  }

  private remember(account: Account): void {
    this.recent.delete(account.id)
    this.recent.set(account.id, account)
    if (this.recent.size > RECENT_STATES) {
      const oldest = this.recent.keys().next().value
      if (oldest !== undefined) this.recent.delete(oldest)
    }
  }

  /** The account's state from its whole stream, ignoring snapshots (what a rebuild relies on). */
  async replay(id: string): Promise<Account | undefined> {
    return this.fold(undefined, await this.store.readStream(id))
  }

  private fold(state: Account | undefined, events: readonly RecordedEvent[]) {
    return events
      .filter((event) => event.streamType === ACCOUNT_STREAM)
      .reduce<Account | undefined>(
        (current, event) => evolve(current, event as RecordedEvent & AccountEvent),
        state,
      )
  }

  private async execute(
    id: string,
    command: AccountCommand,
    actor: Express.User,
  ): Promise<AccountView> {
    // The queue covers load → decide → append; waiting for the read model happens outside it,
    // so the account's next command does not wait for this one's projection.
    const { account, recorded } = await this.queue.run(id, () => this.record(id, command, actor))
    await this.readModelShows(recorded)
    await this.events.emit(command.type === 'deposit' ? 'account.deposited' : 'account.withdrawn', {
      account,
      amount: command.amount,
    })
    return account
  }

  /** Decides on the current state and appends; on a lost race, again on the new state. */
  private async record(id: string, command: AccountCommand, actor: Express.User) {
    const started = Date.now()
    for (;;) {
      const state = await this.current(id)
      if (!state) throw new NotFoundError('Account not found')
      this.requireOwner(state.ownerId, actor)
      const event = decide(state, command)
      let recorded: RecordedEvent
      try {
        recorded = await this.append(state, event, actor)
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error
        // Another instance appended first: decide again on the state that includes its event.
        this.stats.retries++
        if (Date.now() - started < RETRY_BUDGET_MS) continue
        this.stats.lostRaces++
        throw new ConflictError('A concurrent change won; retry the request', {
          code: 'CONCURRENT_CHANGE',
        })
      }
      this.stats.commands++
      const next = evolve(state, { ...event, streamId: id, version: recorded.version })
      this.remember(next)
      return { account: view(next), recorded }
    }
  }

  /** Appends the event after the state's version, with a snapshot every `snapshotEvery`. */
  private append(state: Account, event: AccountEvent, actor: Express.User): Promise<RecordedEvent> {
    return this.db.write.transaction().execute(async (trx) => {
      const [recorded] = await this.store.append(
        trx,
        this.stream(state.id),
        state.version,
        [event],
        this.metadata(actor),
      )
      const next = evolve(state, { ...event, streamId: state.id, version: state.version + 1 })
      if (next.version % this.options.snapshotEvery === 0) {
        await this.snapshots.save(trx, state.id, ACCOUNT_SNAPSHOT_SCHEMA, {
          version: next.version,
          state: next,
        })
      }
      return recorded as RecordedEvent
    })
  }

  /** Waits until the read model shows the event, so a GET right after the command sees it. */
  private async readModelShows(event: RecordedEvent): Promise<void> {
    if (await this.balances.waitFor(event, READ_MODEL_WAIT_MS)) return
    this.options.logger.warn(
      { position: event.position, waitedMs: READ_MODEL_WAIT_MS },
      'the balances read model lags behind the ledger',
    )
  }

  private requireOwner(ownerId: string, actor: Express.User): void {
    if (!canModify(actor, ownerId)) {
      throw new ForbiddenError('Only its owner or an admin may see or change an account')
    }
  }

  private stream(id: string) {
    return { id, type: ACCOUNT_STREAM }
  }

  private metadata(actor: Express.User) {
    const requestId = requestContext.getStore()?.requestId
    return { actorId: actor.id, ...(requestId ? { requestId } : {}) }
  }
}
