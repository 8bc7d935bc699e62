/** A JSON value: what a cache stores and gives back unchanged (a Date would come back a string). */
export type Json =
  | string
  | number
  | boolean
  | null
  | readonly Json[]
  | { readonly [key: string]: Json }

export interface CacheOptions<T> {
  ttlSeconds: number
  /**
   * Tags to invalidate the entry by, e.g. `post:<id>`, `user:<authorId>`; a function when they
   * depend on what was loaded.
   */
  tags?: readonly string[] | ((value: T) => readonly string[])
}

/**
 * Cache-aside reads. Without the cache recipe this is `loadThrough`, which always loads: code
 * that caches works the same with or without Redis.
 */
export interface Cache {
  /**
   * The entry under `key`, or what `load` returns, stored for `ttlSeconds` with its tags. An
   * `undefined` result (not found) is never stored. Never fails because of the cache itself.
   */
  getOrLoad<T extends Json>(
    key: string,
    options: CacheOptions<T>,
    load: () => Promise<T | undefined>,
  ): Promise<T | undefined>
  /** Forgets every entry carrying one of `tags`: call it after the write that changed them. */
  invalidateTags(tags: readonly string[]): Promise<void>
}

/** No cache: every read loads. */
export const loadThrough: Cache = {
  getOrLoad: (_key, _options, load) => load(),
  invalidateTags: async () => {},
}
