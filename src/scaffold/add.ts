import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { CONFIG_FILE } from '../core/project.js'
import type { ProjectConfig } from '../core/project-config.js'
import {
  CHECKSUMS_FILE,
  dedupeEnv,
  planProject,
  readChecksums,
  renderChecksums,
  SHARED_FILES,
} from './plan.js'
import { type RecipeName, recipes } from './registry.js'
import { sha256 } from './render.js'
import { resolveRecipes } from './resolve.js'

export type AddAction = 'create' | 'update' | 'unchanged' | 'merge' | 'conflict'

export interface AddEntry {
  path: string
  action: AddAction
  recipe: string
  /** Why a file is in conflict, or what a merge adds. */
  note?: string
}

export interface AddPlan {
  installed: RecipeName[]
  adding: RecipeName[]
  entries: AddEntry[]
  /** What to write when there is no conflict: path → content and mode. */
  writes: Map<string, { content: Buffer; mode: number }>
}

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined
}

/** Adds what is missing from `next` to `current` (never changes a value the user has). */
function addMissing(current: Record<string, string> = {}, next: Record<string, string>) {
  const added = Object.keys(next).filter((key) => !(key in current))
  const merged = { ...current }
  for (const key of added) merged[key] = next[key] as string
  return {
    added,
    merged: Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b))),
  }
}

const migrationFile = /^src\/db\/migrations\/(\d{14})_(.+)$/

/** `2026-11-26T10:20:30Z` → `20261126102030`, as `backendkit migrate make` names migrations. */
const stamp = (time: number) => new Date(time).toISOString().replace(/\D/g, '').slice(0, 14)

/**
 * A recipe's migrations carry the date the recipe was written. Added to a project whose own
 * migrations go further, they would sort before migrations already applied, which the migrator
 * refuses: each such migration is dated now instead (a second apart, in the recipes' order).
 * Returns planned path → path in the project.
 */
function restampMigrations(root: string, planned: readonly string[]): Map<string, string> {
  const folder = path.join(root, 'src/db/migrations')
  const present = existsSync(folder) ? readdirSync(folder) : []
  const latest = present
    .map((name) => migrationFile.exec(`src/db/migrations/${name}`)?.[1])
    .filter((ts): ts is string => ts !== undefined)
    .sort()
    .at(-1)
  const renames = new Map<string, string>()
  if (!latest) return renames
  const after = Date.UTC(
    Number(latest.slice(0, 4)),
    Number(latest.slice(4, 6)) - 1,
    Number(latest.slice(6, 8)),
    Number(latest.slice(8, 10)),
    Number(latest.slice(10, 12)),
    Number(latest.slice(12, 14)),
  )
  let next = Math.max(Date.now(), after + 1_000)
  for (const file of [...planned].sort()) {
    const match = migrationFile.exec(file)
    if (!match || existsSync(path.join(root, file)) || (match[1] as string) > latest) continue
    renames.set(file, `src/db/migrations/${stamp(next)}_${match[2]}`)
    next += 1_000
  }
  return renames
}

/**
 * What adding recipes to the project at `root` would do. A file backendkit generated and you
 * did not change (its hash matches the recorded one) may be rewritten; a file you changed, or one
 * backendkit never wrote, is a conflict and is never overwritten. package.json, .env.example and
 * backendkit.json are merged: only what is missing is added.
 */
export function planAdd(
  root: string,
  config: ProjectConfig,
  requested: readonly string[],
): AddPlan {
  const installed = resolveRecipes(config.recipes)
  const all = resolveRecipes([...config.recipes, ...requested])
  const adding = all.filter((name) => !installed.includes(name))
  const entries: AddEntry[] = []
  const writes: AddPlan['writes'] = new Map()
  if (adding.length === 0) return { installed, adding, entries, writes }

  const pkgText = readText(path.join(root, 'package.json'))
  // backendkit stays as the project has it (or has it not): `add` never changes that pin.
  const pinned = (() => {
    try {
      const pkg = JSON.parse(pkgText ?? '{}') as { devDependencies?: Record<string, string> }
      return pkg.devDependencies?.backendkit
    } catch {
      return undefined
    }
  })()
  const plan = planProject(config.name, all, pinned ? { backendkit: { spec: pinned } } : {})
  const checksums = readChecksums(readText(path.join(root, CHECKSUMS_FILE)))
  const nextChecksums = { ...checksums }
  const renamed = restampMigrations(
    root,
    plan.files.filter((f) => adding.includes(f.recipe as RecipeName)).map((f) => f.path),
  )
  for (const planned of plan.files) {
    const isShared = (SHARED_FILES as readonly string[]).includes(planned.path)
    if (planned.recipe === 'backendkit' && !isShared) continue // merged below
    if (!isShared && !adding.includes(planned.recipe as RecipeName)) continue
    const file = { ...planned, path: renamed.get(planned.path) ?? planned.path }
    const existing = existsSync(path.join(root, file.path))
      ? readFileSync(path.join(root, file.path))
      : undefined
    const note = renamed.has(planned.path)
      ? 'dated now: the project has later migrations'
      : undefined
    const entry = (action: AddAction, why = note) =>
      entries.push({ path: file.path, action, recipe: file.recipe, ...(why ? { note: why } : {}) })
    if (!existing) {
      entry('create')
    } else if (existing.equals(file.content)) {
      entry('unchanged')
      continue
    } else if (checksums[file.path] === sha256(existing)) {
      entry('update')
    } else {
      entry(
        'conflict',
        checksums[file.path]
          ? 'you changed it since backendkit wrote it'
          : 'backendkit did not write it',
      )
      continue
    }
    writes.set(file.path, { content: file.content, mode: file.mode })
    nextChecksums[file.path] = sha256(file.content)
  }

  // package.json: add the dependencies and scripts that are missing.
  try {
    const pkg = JSON.parse(pkgText ?? '{}') as Record<string, unknown>
    const dependencies = addMissing(pkg.dependencies as Record<string, string>, plan.dependencies)
    const devDependencies = addMissing(
      pkg.devDependencies as Record<string, string>,
      plan.devDependencies,
    )
    const scripts = addMissing(pkg.scripts as Record<string, string>, plan.scripts)
    const added = [
      ...dependencies.added,
      ...devDependencies.added,
      ...scripts.added.map((s) => `script ${s}`),
    ]
    if (added.length > 0) {
      const next = {
        ...pkg,
        scripts: {
          ...(pkg.scripts as object),
          ...Object.fromEntries(scripts.added.map((s) => [s, plan.scripts[s]])),
        },
        dependencies: dependencies.merged,
        devDependencies: devDependencies.merged,
      }
      entries.push({
        path: 'package.json',
        action: 'merge',
        recipe: 'backendkit',
        note: `adds ${added.join(', ')}`,
      })
      writes.set('package.json', {
        content: Buffer.from(`${JSON.stringify(next, null, 2)}\n`),
        mode: 0o644,
      })
    }
  } catch {
    entries.push({
      path: 'package.json',
      action: 'conflict',
      recipe: 'backendkit',
      note: 'it is not valid JSON',
    })
  }

  // .env.example: append the variables it does not mention yet, under each recipe's header.
  const envText = readText(path.join(root, '.env.example')) ?? ''
  const present = new Set([...envText.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]))
  const blocks = dedupeEnv(
    adding.map((name) => ({ recipe: name, vars: recipes[name].env })),
  ).flatMap(({ recipe: name, vars: declared }) => {
    const vars = declared.filter((v) => !present.has(v.name))
    if (vars.length === 0) return []
    return [
      [
        `# --- ${name} ---`,
        ...vars.flatMap((v) => [`# ${v.description}`, `${v.name}=${v.example}`]),
      ].join('\n'),
    ]
  })
  if (blocks.length > 0) {
    const base = envText.endsWith('\n') || envText === '' ? envText : `${envText}\n`
    entries.push({
      path: '.env.example',
      action: 'merge',
      recipe: 'backendkit',
      note: 'adds the new variables',
    })
    writes.set('.env.example', {
      content: Buffer.from(`${base}\n${blocks.join('\n\n')}\n`),
      mode: 0o644,
    })
  }

  // backendkit.json: record the recipes; every other field stays as the user has it.
  const raw = JSON.parse(readFileSync(path.join(root, CONFIG_FILE), 'utf8')) as Record<
    string,
    unknown
  >
  const nextConfig = { ...raw, recipes: all.filter((name) => name !== 'core') }
  entries.push({
    path: CONFIG_FILE,
    action: 'merge',
    recipe: 'backendkit',
    note: `records ${adding.join(', ')}`,
  })
  writes.set(CONFIG_FILE, {
    content: Buffer.from(`${JSON.stringify(nextConfig, null, 2)}\n`),
    mode: 0o644,
  })
  writes.set(CHECKSUMS_FILE, { content: Buffer.from(renderChecksums(nextChecksums)), mode: 0o644 })
  return { installed, adding, entries, writes }
}
