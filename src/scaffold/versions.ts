import pkg from '../../package.json' with { type: 'json' }

/**
 * The one source of versions: a generated project gets exactly the versions this repository
 * pins and tests with, so its `node_modules` can be this repo's own and the e2e tests run offline.
 * A recipe can only name a package this repo pins: anything else is a compile error.
 */
export type PackageName = keyof typeof pkg.dependencies | keyof typeof pkg.devDependencies

const pinned: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies }

export function versionOf(name: PackageName): string {
  const version = pinned[name]
  if (!version) throw new Error(`${name} is not pinned in backendkit's package.json`)
  return version
}

export const backendkitVersion: string = pkg.version
