/**
 * Runs tasks one at a time per key, in the order they arrive; tasks of different keys run
 * concurrently. A task that fails does not stop the ones queued after it.
 *
 * @example queue.run(accountId, () => withdraw(accountId, 10))
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const result = previous.then(task)
    const tail = result.then(
      () => {},
      () => {},
    )
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size
  }
}
