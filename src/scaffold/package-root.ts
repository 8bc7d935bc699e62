import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/** backendkit's own install folder (templates/ and recipes/ live there), from src/ or dist/. */
export function packageRoot(): string {
  if (root) return root
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = path.join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'backendkit') {
      root = dir
      return dir
    }
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('cannot find the backendkit package root')
    dir = parent
  }
}

/**
 * Whether backendkit runs from a checkout of its repository (sources beside dist/) rather than
 * from an installed package: not published yet, so a project it generates gets a packed copy.
 */
export function isCheckout(): boolean {
  return existsSync(path.join(packageRoot(), 'src', 'cli.ts'))
}
