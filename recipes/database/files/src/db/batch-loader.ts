import { isDataException } from './errors.js'

interface Waiting<V> {
  resolve(row: V | undefined): void
  reject(error: unknown): void
}

/**
 * Reads rows by key (a primary key, a unique column) for many callers at once: the keys asked for
 * in one turn of the event loop are read by one query, each key once. Under load, the requests
 * of one moment ask for overlapping rows (the same popular post, the caller's own user); batched,
 * they cost one round trip and one statement instead of one each, on both ends.
 *
 * Fresh as a query of its own: a caller never joins a query already sent (which might miss a
 * write committed since), only one that has not left yet. A failure fails every caller of that
 * batch alike, except a key PostgreSQL cannot read for the column (a data exception): then each
 * key is read on its own, and only the callers of the bad one fail (validate keys at the edge,
 * so this stays the exception).
 *
 * @example
 * const users = new BatchLoader(
 *   (ids: readonly string[]) =>
 *     db.read.selectFrom('users').selectAll().where('id', '=', (eb) => eb.fn.any(eb.val(ids))).execute(),
 *   (row) => row.id,
 * )
 * const user = await users.load(id) // undefined: no such row
 */
export class BatchLoader<K, V> {
  private pending = new Map<K, Waiting<V>[]>()
  private scheduled = false

  constructor(
    /** The rows for `keys`, in any order; a key without a row is "not found". */
    private readonly fetch: (keys: readonly K[]) => Promise<readonly V[]>,
    private readonly keyOf: (row: V) => K,
    private readonly maxBatch = 500,
  ) {}

  /** The row of `key`, or undefined. */
  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key)
      if (waiting) {
        waiting.push({ resolve, reject })
        return
      }
      this.pending.set(key, [{ resolve, reject }])
      if (this.pending.size >= this.maxBatch) this.dispatch()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.dispatch())
      }
    })
  }

  private dispatch(): void {
    this.scheduled = false
    const batch = this.pending
    if (batch.size === 0) return
    this.pending = new Map()
    void this.read(batch)
  }

  private async read(batch: Map<K, Waiting<V>[]>): Promise<void> {
    let rows: readonly V[]
    try {
      rows = await this.fetch([...batch.keys()])
    } catch (error) {
      if (batch.size > 1 && isDataException(error)) {
        // One key the column cannot read fails the statement: read each alone.
        await Promise.all([...batch].map(([key, callers]) => this.read(new Map([[key, callers]]))))
        return
      }
      for (const callers of batch.values()) for (const caller of callers) caller.reject(error)
      return
    }
    for (const row of rows) {
      const key = this.keyOf(row)
      for (const caller of batch.get(key) ?? []) caller.resolve(row)
      batch.delete(key)
    }
    for (const callers of batch.values()) for (const caller of callers) caller.resolve(undefined)
  }
}
