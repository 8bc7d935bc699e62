import type { Io } from './io.js'
import { redact } from './redact.js'

export interface Progress {
  /** Replaces the progress line (at most every `intervalMs`). */
  update(text: string): void
  /** Clears the line, so what follows starts on a clean one. */
  done(): void
}

const silent: Progress = { update() {}, done() {} }

/**
 * One self-overwriting line on stderr for long operations, only when stderr is a terminal: a
 * pipe or a CI log gets nothing rather than thousands of carriage returns.
 */
export function createProgress(io: Pick<Io, 'stderr'>, intervalMs = 100): Progress {
  if (!io.stderr.isTTY) return silent
  let last = 0
  let shown = false
  return {
    update(text) {
      const now = Date.now()
      if (now - last < intervalMs) return
      last = now
      shown = true
      io.stderr.write(`\r\x1b[2K${redact(text)}`)
    },
    done() {
      if (shown) io.stderr.write('\r\x1b[2K')
      shown = false
    },
  }
}
