/*
 * Redis glob patterns (SCAN MATCH, KEYS): `*` any text, `?` one character, `[abc]`, `[^abc]`,
 * `[a-z]` a set, `\x` the character x. Used to build MATCH patterns that can never reach outside
 * a prefix, and to apply a glob to part of a key on the client.
 */

/** The literal text as a pattern that matches only itself: `a*b[1]` → `a\*b\[1\]`. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&')
}

/** A MATCH pattern for keys that start with the literal `prefix` and continue as `glob` says. */
export function prefixedPattern(prefix: string, glob = '*'): string {
  return escapeGlob(prefix) + glob
}

const classChar = (char: string) => `\\u{${char.codePointAt(0)?.toString(16)}}`

/** UTF-8 bytes as a string of code units 0–255: Redis compares bytes, so `?` is one byte. */
const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1')

/** The glob as an anchored regular expression over bytes() with Redis's semantics (stringmatchlen). */
function globToRegExp(glob: string): RegExp {
  const chars = [...bytes(glob)]
  let source = ''
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string
    if (char === '*') {
      source += '[^]*'
    } else if (char === '?') {
      source += '[^]'
    } else if (char === '\\' && i + 1 < chars.length) {
      source += classChar(chars[++i] as string)
    } else if (char === '[') {
      // A set runs to the next unescaped `]`, or to the end of the pattern (as in Redis).
      let negate = false
      if (chars[i + 1] === '^') {
        negate = true
        i++
      }
      let set = ''
      for (i++; i < chars.length && chars[i] !== ']'; i++) {
        let from = chars[i] as string
        if (from === '\\' && i + 1 < chars.length) from = chars[++i] as string
        if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
          let to = chars[i + 2] as string
          i += 2
          if (to === '\\' && i + 1 < chars.length) to = chars[++i] as string
          const [low, high] = [from, to].sort(
            (a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0),
          )
          set += `${classChar(low as string)}-${classChar(high as string)}`
        } else {
          set += classChar(from)
        }
      }
      source += negate ? `[^${set}]` : set ? `[${set}]` : '(?!)'
    } else {
      source += classChar(char)
    }
  }
  return new RegExp(`^${source}$`, 'u')
}

/** A test of texts against the Redis glob, exactly as SCAN MATCH would judge them. */
export function globMatcher(glob: string): (text: string) => boolean {
  const pattern = globToRegExp(glob)
  return (text) => pattern.test(bytes(text))
}

export function matchesGlob(glob: string, text: string): boolean {
  return globMatcher(glob)(text)
}
