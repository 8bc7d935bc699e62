/** The process edges a command may touch, injected so tests run commands without a terminal. */
export interface OutputStream {
  write(chunk: string): unknown
  isTTY?: boolean
}

export interface Io {
  stdout: OutputStream
  stderr: OutputStream
  stdin: { isTTY?: boolean }
  env: Record<string, string | undefined>
  cwd: string
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  }
}
