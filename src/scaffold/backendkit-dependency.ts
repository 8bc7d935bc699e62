import { packTarball } from './pack.js'
import { isCheckout, packageRoot } from './package-root.js'
import { backendkitVersion } from './versions.js'

/**
 * How a generated project depends on backendkit, so that `npx backendkit` inside it runs the
 * version that generated it: a devDependency (a production install never needs it), pinned to
 * this version. Until backendkit is on the registry, `new` run from a checkout packs the checkout
 * into the project (`vendor/backendkit-<version>.tgz`, committed with it) and points the
 * devDependency there: a relative `file:` path that `npm ci` resolves the same way on a laptop,
 * in CI and in a container build, where a `file:` link to the checkout would not exist.
 */
export interface BackendkitDependency {
  /** The devDependency's spec: `0.1.0`, or `file:vendor/backendkit-0.1.0.tgz`. */
  spec: string
  /** From a checkout: the packed checkout and where the project keeps it. */
  tarball?: { path: string; content: Buffer }
}

export function backendkitDependency(): BackendkitDependency {
  if (!isCheckout()) return { spec: backendkitVersion }
  const file = `vendor/backendkit-${backendkitVersion}.tgz`
  return { spec: `file:${file}`, tarball: { path: file, content: packTarball(packageRoot()) } }
}

/** The tarball a spec points to inside the project (`vendor/….tgz`), if it is one. */
export function vendoredTarball(spec: string | undefined): string | undefined {
  const match = spec?.match(/^file:(?:\.\/)?([^/].*\.tgz)$/)
  return match?.[1]
}
