import { readFileSync } from 'node:fs'
import path from 'node:path'
import { packageRoot } from './package-root.js'
import type { RecipeName } from './recipe-names.js'
import type { PackageName } from './versions.js'

export interface EnvVar {
  name: string
  /** The value written to .env.example (a safe local default, never a real secret). */
  example: string
  /** One line saying what it is for; becomes the comment above it. */
  description: string
  /**
   * The value a production deploy starts from, when it is not `example` (NODE_ENV: production).
   * The deploy recipe's settings (a Kubernetes ConfigMap) are written from it.
   */
  production?: string
}

export interface Recipe<Name extends RecipeName = RecipeName> {
  name: Name
  summary: string
  /** Recipes this one needs; resolved transitively, installed first. */
  requires: readonly RecipeName[]
  dependencies: readonly PackageName[]
  devDependencies: readonly PackageName[]
  /**
   * The variables it reads. A variable several recipes read (REDIS_URL) is declared by the one
   * that owns it; .env.example lists each variable once, under the first recipe declaring it.
   */
  env: readonly EnvVar[]
  scripts: Readonly<Record<string, string>>
  /** The runtime module it registers in the generated src/modules.ts, if any. */
  module?: { from: string; name: string }
  /** What it adds, in a few words, for `backendkit recipes`. */
  adds: readonly string[]
  /** Where its template files are, relative to the package root. */
  templateDir: string
  /** Its section of the generated README: recipes/<name>/README.md, read when first needed. */
  readme(): string
}

type RecipeInput<Name extends RecipeName> = Omit<
  Recipe<Name>,
  'requires' | 'dependencies' | 'devDependencies' | 'env' | 'scripts' | 'templateDir' | 'readme'
> &
  Partial<
    Pick<
      Recipe<Name>,
      'requires' | 'dependencies' | 'devDependencies' | 'env' | 'scripts' | 'templateDir'
    >
  >

/**
 * A recipe is data plus its own files: templates in recipes/<name>/files (unless it says
 * otherwise) and its README section in recipes/<name>/README.md.
 */
export function defineRecipe<const Name extends RecipeName>(
  input: RecipeInput<Name>,
): Recipe<Name> {
  let readme: string | undefined
  return {
    requires: [],
    dependencies: [],
    devDependencies: [],
    env: [],
    scripts: {},
    templateDir: `recipes/${input.name}/files`,
    ...input,
    readme() {
      readme ??= readFileSync(path.join(packageRoot(), 'recipes', input.name, 'README.md'), 'utf8')
      return readme.trimEnd()
    },
  }
}
