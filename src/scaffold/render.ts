import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import Handlebars from 'handlebars'

export interface RenderedFile {
  /** Path in the generated project, POSIX separators. */
  path: string
  content: Buffer
  /** Permission bits, kept from the template (an executable script stays executable). */
  mode: number
}

/**
 * Template file names → project file names: a leading `_` becomes a dot (npm would drop or
 * act on a real `.gitignore` or `.npmrc` in our own package), and `.hbs` marks a file rendered
 * with Handlebars; every other file is copied byte for byte. A `.hbs` file that renders to
 * nothing (its whole content inside `{{#if recipes.database}}`) is not written: a file only some
 * sets of recipes need.
 */
export function outputName(name: string): string {
  const dotted = name.startsWith('_') ? `.${name.slice(1)}` : name
  return dotted.endsWith('.hbs') ? dotted.slice(0, -4) : dotted
}

function walk(dir: string, relative = ''): string[] {
  return readdirSync(path.join(dir, relative), { withFileTypes: true }).flatMap((entry) => {
    const child = relative ? `${relative}/${entry.name}` : entry.name
    return entry.isDirectory() ? walk(dir, child) : [child]
  })
}

const handlebars = Handlebars.create()

export function renderTemplateDir(dir: string, context: object): RenderedFile[] {
  return walk(dir)
    .sort()
    .flatMap((relative) => {
      const source = path.join(dir, relative)
      const segments = relative.split('/')
      const target = segments.map(outputName).join('/')
      const raw = readFileSync(source)
      const content = relative.endsWith('.hbs')
        ? Buffer.from(
            handlebars.compile(raw.toString('utf8'), { noEscape: true, strict: true })(context),
          )
        : raw
      if (relative.endsWith('.hbs') && content.toString('utf8').trim() === '') return []
      return [{ path: target, content, mode: statSync(source).mode & 0o777 }]
    })
}

export function sha256(content: Buffer | string): string {
  return `sha256-${createHash('sha256').update(content).digest('hex')}`
}
