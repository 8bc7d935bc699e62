import path from 'node:path'
import { CONFIG_FILE } from '../core/project.js'
import type { ProjectConfigInput } from '../core/project-config.js'
import { type BackendkitDependency, vendoredTarball } from './backendkit-dependency.js'
import { packageRoot } from './package-root.js'
import type { EnvVar } from './recipe.js'
import { type RecipeName, recipeNames, recipes } from './registry.js'
import { type RenderedFile, renderTemplateDir, sha256 } from './render.js'
import { backendkitVersion, versionOf } from './versions.js'

/** Where backendkit records the hash of every file it generated, to spot the ones you changed. */
export const CHECKSUMS_FILE = '.backendkit/checksums.json'
/** Files rewritten whenever the recipe set changes (all others belong to one recipe). */
export const SHARED_FILES = ['src/modules.ts', 'README.md'] as const
/** Files `add` merges field by field instead of replacing. */
export const MERGED_FILES = ['package.json', '.env.example', CONFIG_FILE] as const

export interface PlannedFile extends RenderedFile {
  /** The recipe it comes from; `backendkit` for the files built from the recipe set. */
  recipe: RecipeName | 'backendkit'
}

export interface ProjectPlan {
  name: string
  recipes: RecipeName[]
  files: PlannedFile[]
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  scripts: Record<string, string>
  env: { recipe: RecipeName; vars: readonly EnvVar[] }[]
}

const sortKeys = (record: Record<string, string>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** The content of CHECKSUMS_FILE: the hash of every file backendkit wrote and still owns. */
export function renderChecksums(files: Record<string, string>): string {
  return json({ version: backendkitVersion, files })
}

export function readChecksums(content: string | undefined): Record<string, string> {
  if (!content) return {}
  try {
    return (JSON.parse(content) as { files?: Record<string, string> }).files ?? {}
  } catch {
    return {}
  }
}

/**
 * Each variable once, under the first recipe (in install order) that declares it: REDIS_URL is
 * one line however many recipes read it.
 */
export function dedupeEnv(env: ProjectPlan['env']): ProjectPlan['env'] {
  const seen = new Set<string>()
  return env.map(({ recipe, vars }) => ({
    recipe,
    vars: vars.filter((v) => {
      if (seen.has(v.name)) return false
      seen.add(v.name)
      return true
    }),
  }))
}

export function renderEnvExample(env: ProjectPlan['env']): string {
  const blocks = dedupeEnv(env)
    .filter(({ vars }) => vars.length > 0)
    .map(({ recipe, vars }) =>
      [
        `# --- ${recipe} ---`,
        ...vars.flatMap((v) => [`# ${v.description}`, `${v.name}=${v.example}`]),
      ].join('\n'),
    )
  return `# Every variable the service reads, with a safe local value. Copy to .env for development;
# in production set them in the environment (never commit real secrets).

${blocks.join('\n\n')}\n`
}

/**
 * Whether a variable holds a credential: a connection URL (it may carry a password), a secret, a
 * password, a token, a key. Deploy files keep these out of what is committed (a Kubernetes Secret
 * made apart, not the ConfigMap); a new recipe's `AMQP_URL` is one without anyone listing it.
 */
export function isSecretVariable(name: string): boolean {
  return /(_URL|SECRET|PASSWORD|TOKEN|_KEY)$/.test(name)
}

/** What templates know of the environment: settings with their production value, and secrets. */
export function envContext(env: ProjectPlan['env']) {
  const vars = dedupeEnv(env).flatMap(({ vars }) => vars)
  return {
    settings: vars
      .filter((v) => !isSecretVariable(v.name))
      .map((v) => ({ name: v.name, value: v.production ?? v.example, description: v.description })),
    secrets: vars
      .filter((v) => isSecretVariable(v.name))
      .map((v) => ({ name: v.name, description: v.description })),
  }
}

/**
 * The backing services the project talks to, from the variables its recipes read: so deploy
 * files (docker-compose) follow the recipes, including ones added after them.
 */
export function backingServices(env: ProjectPlan['env']) {
  const names = new Set(env.flatMap(({ vars }) => vars.map((v) => v.name)))
  const uses = {
    postgres: names.has('DATABASE_URL'),
    redis: names.has('REDIS_URL'),
    rabbitmq: names.has('AMQP_URL'),
  }
  return { ...uses, any: Object.values(uses).some(Boolean) }
}

/**
 * The project's name as Kubernetes and Compose accept it (a DNS label): `@acme/my-api` →
 * `acme-my-api`, short enough for suffixes such as `-worker-canary`.
 */
export function resourceName(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '')
  return label || 'app'
}

/** The modules array as Biome formats it: on one line while it fits in 100 columns. */
function modulesList(names: readonly string[]): string {
  const head = 'export const modules: readonly AppModule[] = ['
  const oneLine = `${head}${names.join(', ')}]`
  if (oneLine.length <= 100) return oneLine
  return `${head}\n${names.map((name) => `  ${name},\n`).join('')}]`
}

export function renderModules(installed: readonly RecipeName[]): string {
  const entries = installed.flatMap((name) => {
    const module = recipes[name].module
    return module ? [module] : []
  })
  // Sorted by path, as Biome's import sorting wants them; the array below keeps install order.
  const imports = [
    ...entries.map((m) => ({ from: m.from, line: `import { ${m.name} } from '${m.from}'` })),
    { from: './module.js', line: "import type { AppModule } from './module.js'" },
  ]
    .sort((a, b) => a.from.localeCompare(b.from))
    .map((i) => i.line)
  return `// Generated by backendkit from the recipes in backendkit.json: \`backendkit add\` rewrites it.
// Each module is started in this order and stopped in reverse; change a module in its own files.

${imports.join('\n')}

${modulesList(entries.map((m) => m.name))}
`
}

export function projectConfig(name: string, installed: readonly RecipeName[]): ProjectConfigInput {
  return {
    $schema: `https://unpkg.com/backendkit@${backendkitVersion}/dist/backendkit.schema.json`,
    name,
    recipes: installed.filter((r) => r !== 'core'),
    redis: { keyPrefix: `${name}:` },
    migrations: { dir: 'src/db/migrations' },
    queues: { prefix: `${name}:bull` },
    flags: { table: 'feature_flags', channel: `${name}:flags` },
    health: { url: 'http://127.0.0.1:3000', live: '/health/live', ready: '/health/ready' },
  }
}

export interface PlanOptions {
  /**
   * How the project depends on backendkit: `new` gives this version (and, from a checkout, the
   * packed checkout to write); `add` gives what the project's package.json already says, never
   * changing it.
   */
  backendkit?: BackendkitDependency
}

/** Everything a project with these recipes consists of: files, dependencies, scripts, env. */
export function planProject(
  name: string,
  installed: readonly RecipeName[],
  options: PlanOptions = {},
): ProjectPlan {
  const root = packageRoot()
  const env = installed.map((recipe) => ({ recipe, vars: recipes[recipe].env }))
  const context = {
    name,
    resourceName: resourceName(name),
    // Every recipe, installed or not, so templates can ask `{{#if recipes.auth}}` in strict mode.
    recipes: Object.fromEntries(recipeNames.map((r) => [r, installed.includes(r)])),
    // Each recipe's README.md (its section of the project's README, heading included).
    sections: installed.map((r) => recipes[r].readme()),
    env: envContext(env),
    uses: backingServices(env),
    // The packed backendkit the project installs from (`vendor/….tgz`), or '' from the registry.
    backendkit: { tarball: vendoredTarball(options.backendkit?.spec) ?? '' },
  }
  const files: PlannedFile[] = installed.flatMap((recipe) =>
    renderTemplateDir(path.join(root, recipes[recipe].templateDir), context).map((file) => ({
      ...file,
      recipe,
    })),
  )
  const dependencies: Record<string, string> = {}
  const devDependencies: Record<string, string> = {}
  const scripts: Record<string, string> = {}
  for (const recipe of installed.map((r) => recipes[r])) {
    for (const dep of recipe.dependencies) dependencies[dep] = versionOf(dep)
    for (const dep of recipe.devDependencies) devDependencies[dep] = versionOf(dep)
    Object.assign(scripts, recipe.scripts)
  }
  if (options.backendkit) devDependencies.backendkit = options.backendkit.spec
  const generated = (file: string, content: string): PlannedFile => ({
    path: file,
    content: Buffer.from(content),
    mode: 0o644,
    recipe: 'backendkit',
  })
  files.push(
    generated(
      'package.json',
      json({
        name,
        version: '0.1.0',
        private: true,
        type: 'module',
        engines: { node: '>=22.12' },
        scripts,
        dependencies: sortKeys(dependencies),
        devDependencies: sortKeys(devDependencies),
      }),
    ),
    generated('.env.example', renderEnvExample(env)),
    generated(CONFIG_FILE, json(projectConfig(name, installed))),
    generated('src/modules.ts', renderModules(installed)),
  )
  const tarball = options.backendkit?.tarball
  if (tarball) files.push({ ...generated(tarball.path, ''), content: tarball.content })
  const byPath = new Map<string, PlannedFile>()
  for (const file of files) {
    if (byPath.has(file.path)) {
      throw new Error(
        `${file.path} is written by both ${byPath.get(file.path)?.recipe} and ${file.recipe}`,
      )
    }
    byPath.set(file.path, file)
  }
  const checksums = Object.fromEntries(
    files
      .filter((f) => !(MERGED_FILES as readonly string[]).includes(f.path))
      .map((f) => [f.path, sha256(f.content)]),
  )
  files.push(generated(CHECKSUMS_FILE, renderChecksums(checksums)))
  files.sort((a, b) => a.path.localeCompare(b.path))
  return { name, recipes: [...installed], files, dependencies, devDependencies, scripts, env }
}
