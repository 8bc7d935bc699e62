/** The process edges a command may touch, injected so tests run commands without a terminal. */
export interface OutputStream {
  write(chunk: string): unknown
  isTTY?: boolean
}

/** Questions for the person at the terminal; asked only when the context is interactive. */
export interface Prompt {
  /** Yes → true; no, or a cancelled prompt (Ctrl-C, Esc) → false. */
  confirm(message: string): Promise<boolean>
}

export interface Io {
  stdout: OutputStream
  stderr: OutputStream
  stdin: { isTTY?: boolean }
  env: Record<string, string | undefined>
  cwd: string
  prompt: Prompt
}

/** The default prompt: @clack/prompts, imported only when a question is asked. */
export const clackPrompt: Prompt = {
  async confirm(message) {
    const { confirm, isCancel } = await import('@clack/prompts')
    const answer = await confirm({ message, initialValue: false })
    return !isCancel(answer) && answer === true
  },
}

export function processIo(): Io {
  return {
    // Streams are created on first use: touching process.stdin or process.stderr (which loads
    // node:tty and node:net) costs milliseconds of every start, `--help` included.
    stdout: {
      write: (chunk) => process.stdout.write(chunk),
      get isTTY() {
        return process.stdout.isTTY
      },
    },
    stderr: {
      write: (chunk) => process.stderr.write(chunk),
      get isTTY() {
        return process.stderr.isTTY
      },
    },
    stdin: {
      get isTTY() {
        return process.stdin.isTTY
      },
    },
    env: process.env,
    cwd: process.cwd(),
    prompt: clackPrompt,
  }
}
