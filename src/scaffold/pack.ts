import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

/**
 * The tarball `npm pack` would make of a backendkit checkout, made in-process: `new` run from a
 * checkout puts it in the project (backendkit is not on the registry yet), and spawning npm for
 * it would cost ≈ 0.8 s and depend on whatever `npm` is on the PATH. The file list follows npm's
 * rules for what this package uses (a `files` list with plain paths and `!` globs, plus the files
 * npm always ships); a test compares it with `npm pack --dry-run`.
 */

/** npm ships these whatever `files` says (npm-packlist). */
const alwaysIncluded = /^(package\.json|readme(\..*)?|licen[cs]e(\..*)?)$/i
/** …and never these, wherever they are. */
const neverIncluded =
  /(^|\/)(\.git|\.svn|\.hg|CVS|node_modules|\.DS_Store|\.npmrc|npm-debug\.log|\._[^/]*|\.[^/]*\.swp|[^/]*\.orig|package-lock\.json)(\/|$)/

/** A `files` glob (`*` within one path segment, `**` across them) as a regular expression. */
function globToRegExp(glob: string): RegExp {
  const source = glob
    .replace(/\/+$/, '')
    .split(/(\*\*\/?|\*)/)
    .map((part) => {
      if (part === '**/' || part === '**') return '(?:.*/)?'
      if (part === '*') return '[^/]*'
      return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('')
  // A folder matches everything under it.
  return new RegExp(`^${source}(?:/.*)?$`)
}

/** Every file under `relative`, never descending into what npm never ships (node_modules, .git). */
function walk(root: string, relative: string): string[] {
  const full = path.join(root, relative)
  if (!statSync(full).isDirectory()) return [relative]
  return readdirSync(full)
    .sort()
    .map((entry) => (relative ? `${relative}/${entry}` : entry))
    .filter((child) => !neverIncluded.test(child))
    .flatMap((child) => walk(root, child))
}

/** The files `npm pack` puts in the package of the project at `root`, POSIX paths, sorted. */
export function packFiles(root: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    files?: string[]
  }
  const patterns = manifest.files ?? ['**']
  const include = patterns.filter((p) => !p.startsWith('!')).map(globToRegExp)
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => globToRegExp(p.slice(1)))
  return walk(root, '')
    .filter(
      (file) =>
        (!file.includes('/') && alwaysIncluded.test(file)) ||
        (include.some((re) => re.test(file)) && !exclude.some((re) => re.test(file))),
    )
    .sort()
}

/** npm's fixed mtime (1985-10-26T08:15:00Z), so the same files always make the same tarball. */
const fixedMtime = 499162500

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`
}

/** A ustar header; names longer than 100 bytes are split into prefix and name at a `/`. */
function tarHeader(name: string, size: number, mode: number): Buffer {
  const header = Buffer.alloc(512)
  let prefix = ''
  let short = name
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155)
    prefix = name.slice(0, cut)
    short = name.slice(cut + 1)
    if (cut <= 0 || Buffer.byteLength(short) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new Error(`path too long for a tarball: ${name}`)
    }
  }
  header.write(short, 0, 100, 'utf8')
  header.write(octal(mode, 8), 100, 8, 'ascii')
  header.write(octal(0, 8), 108, 8, 'ascii') // uid
  header.write(octal(0, 8), 116, 8, 'ascii') // gid
  header.write(octal(size, 12), 124, 12, 'ascii')
  header.write(octal(fixedMtime, 12), 136, 12, 'ascii')
  header.write(' '.repeat(8), 148, 8, 'ascii') // checksum placeholder
  header.write('0', 156, 1, 'ascii') // a regular file
  header.write('ustar\0', 257, 6, 'ascii')
  header.write('00', 263, 2, 'ascii')
  header.write(prefix, 345, 155, 'utf8')
  let sum = 0
  for (const byte of header) sum += byte
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii')
  return header
}

/**
 * The gzipped tarball of the package at `root`, as npm lays it out (`package/<path>`, mode 644,
 * 755 for executables, a fixed mtime). Throws when the checkout was never built: without `dist/`
 * the package has no CLI.
 */
export function packTarball(root: string): Buffer {
  if (!existsSync(path.join(root, 'dist', 'cli.js'))) {
    throw new Error(`${root} has no dist/cli.js: run \`npm run build\` in it first`)
  }
  const chunks: Buffer[] = []
  for (const file of packFiles(root)) {
    const full = path.join(root, file)
    const content = readFileSync(full)
    const mode = statSync(full).mode & 0o100 ? 0o755 : 0o644
    chunks.push(tarHeader(`package/${file}`, content.length, mode), content)
    const padding = (512 - (content.length % 512)) % 512
    if (padding) chunks.push(Buffer.alloc(padding))
  }
  chunks.push(Buffer.alloc(1024)) // two empty blocks end the archive
  return gzipSync(Buffer.concat(chunks))
}
