/**
 * Secrets never reach a terminal or a log, not even with --debug. Every URL the CLI is given is
 * registered here; everything printed passes through `redact`.
 *
 * A connection URL carries credentials in two places: the userinfo (`postgres://u:pw@host`,
 * `redis://:pw@host`, `rediss://user:pw@host`) and the query string, where libpq and friends take
 * `?password=…`, `?sslpassword=…` and the like. Both are registered as secrets when a URL is
 * parsed (so they are hidden wherever they show up later, e.g. inside a driver's message), and
 * both are masked in any URL that appears in printed text.
 */
const secrets = new Set<string>()

/** Query-string keys whose value is a credential (libpq's, and the usual token names). */
const credentialKey =
  /^(?:password|passwd|pass|pwd|sslpassword|secret|client_secret|token|auth|auth_?token|access_?token|api_?key)$/i

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return undefined // a malformed escape: the raw form is registered already
  }
}

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 3) return
  secrets.add(value)
  // the form it takes inside JSON output, when it holds a quote or a backslash
  secrets.add(JSON.stringify(value).slice(1, -1))
}

/** A secret as written in a URL: registered raw and percent-decoded. */
function registerEncoded(value: string | undefined): void {
  if (!value) return
  registerSecret(value)
  registerSecret(decode(value))
  try {
    registerSecret(decodeURIComponent(value))
  } catch {
    // see decode()
  }
}

/** Registers every credential a connection URL carries: its password and credential parameters. */
export function registerUrlSecrets(raw: string): void {
  registerEncoded(/^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:([^/?#]*)@/i.exec(raw)?.[1])
  const queryStart = raw.indexOf('?')
  if (queryStart === -1) return
  const query = raw.slice(queryStart + 1).split('#')[0] ?? ''
  for (const pair of query.split(/[&;]/)) {
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    if (credentialKey.test(decode(pair.slice(0, eq)) ?? '')) registerEncoded(pair.slice(eq + 1))
  }
}

const urlInText = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi

/** One URL with its userinfo password and its credential parameters masked. */
function maskUrl(url: string): string {
  // The password runs to the last `@` before the path: an unencoded `@` in it stays hidden.
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)([^/?#]+)@/i, '$1***@')
    .replace(/([?&;])([^=&#;]+)=([^&#;]+)/g, (pair, separator: string, key: string) =>
      credentialKey.test(decode(key) ?? key) ? `${separator}${key}=***` : pair,
    )
}

export function redact(text: string): string {
  let out = text
  // longest first, so a secret that contains another is hidden whole
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('***')
  }
  return out.replace(urlInText, maskUrl)
}
