/**
 * The typed schema: every feature declares its tables by merging into this interface, next to
 * its own code, e.g.
 *
 * ```ts
 * declare module '../db/schema.js' {
 *   interface Database { posts: PostsTable }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging
export interface Database {}
