import type { ExitCode } from './errors.js'
import type { Io, OutputStream } from './io.js'
import { redact } from './redact.js'

/**
 * What every command returns: the data (printed as one JSON value with --json) and how to show
 * it to a person. Commands never print their result themselves.
 */
export interface CommandResult<T = unknown> {
  data: T
  render(style: Style): string
  /** 1 when the command ran but the target is not as required (e.g. `migrate status --check`). */
  exitCode?: ExitCode
}

export interface Style {
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  cyan(text: string): string
}

const ansi = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`
const plainText = (text: string) => text

export const colorStyle: Style = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
}

export const plainStyle: Style = {
  bold: plainText,
  dim: plainText,
  red: plainText,
  green: plainText,
  yellow: plainText,
  cyan: plainText,
}

/** Colour only on a TTY, never with --no-color or NO_COLOR; FORCE_COLOR wins over the TTY test. */
export function useColor(
  stream: OutputStream,
  env: Io['env'],
  colorFlag: boolean | undefined,
): boolean {
  if (colorFlag === false || env.NO_COLOR) return false
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ansiPattern = /\x1b\[[0-9;]*m/g
export function visibleLength(text: string): number {
  return text.replace(ansiPattern, '').length
}

export type Align = 'left' | 'right'

/** An aligned table: two spaces between columns, a dim header, no trailing spaces. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  style: Style,
  align: readonly Align[] = [],
): string {
  const widths = headers.map((header, i) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[i] ?? ''))),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell))
        if (align[i] === 'right') return pad + cell
        return i === cells.length - 1 ? cell : cell + pad
      })
      .join('  ')
      .trimEnd()
  return [style.dim(line(headers)), ...rows.map(line)].join('\n')
}

/** Messages for people go to stderr, so stdout carries only data. */
export class Reporter {
  readonly style: Style
  constructor(
    private readonly io: Io,
    color: boolean,
  ) {
    this.style = color ? colorStyle : plainStyle
  }

  info(message: string): void {
    this.io.stderr.write(`${redact(message)}\n`)
  }
}

export function printResult(io: Io, result: CommandResult, json: boolean, style: Style): void {
  if (json) {
    io.stdout.write(`${redact(JSON.stringify(result.data, null, 2))}\n`)
    return
  }
  const text = result.render(style)
  if (text) io.stdout.write(`${redact(text)}\n`)
}
