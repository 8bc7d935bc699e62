/**
 * Secrets never reach a terminal or a log, not even with --debug. Every URL the CLI is given is
 * registered here; everything printed passes through `redact`.
 */
const secrets = new Set<string>()

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 3) secrets.add(value)
}

/** Register the password (raw and percent-decoded) of a connection URL as a secret. */
export function registerUrlSecrets(raw: string): void {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:([^@/?#]*)@/i.exec(raw)
  const password = match?.[1]
  if (!password) return
  registerSecret(password)
  try {
    registerSecret(decodeURIComponent(password))
  } catch {
    // a malformed escape: the raw form is registered already
  }
}

const urlPassword = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]+)@/gi

export function redact(text: string): string {
  let out = text.replace(urlPassword, '$1***@')
  for (const secret of secrets) out = out.split(secret).join('***')
  return out
}
