import { InvalidArgumentError } from 'commander'

const units: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** "500ms", "30s", "5m", "1h", "2d", "1w" or plain seconds ("60") → milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(value.trim())
  if (!match) {
    throw new InvalidArgumentError('Expected a duration such as 500ms, 30s, 5m, 1h or 2d.')
  }
  const ms = Number(match[1]) * (units[match[2] ?? 's'] ?? 1_000)
  if (ms <= 0) throw new InvalidArgumentError('Expected a duration above zero.')
  return ms
}

/** 93784000 → "1d 2h 3m 4s"; under a minute with one decimal: 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`
  const parts: string[] = []
  let rest = Math.floor(ms / 1000)
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n) parts.push(`${n}${unit}`)
  }
  return parts.join(' ')
}
