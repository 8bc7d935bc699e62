import type { PackageName } from './versions.js'

export interface EnvVar {
  name: string
  /** The value written to .env.example (a safe local default, never a real secret). */
  example: string
  /** One line saying what it is for; becomes the comment above it. */
  description: string
}

export interface Recipe<Name extends string = string> {
  name: Name
  summary: string
  /** The heading of its README section. */
  title: string
  /** Recipes this one needs; resolved transitively, installed first. */
  requires: readonly string[]
  dependencies: readonly PackageName[]
  devDependencies: readonly PackageName[]
  env: readonly EnvVar[]
  scripts: Readonly<Record<string, string>>
  /** The runtime module it registers in the generated src/modules.ts, if any. */
  module?: { from: string; name: string }
  /** What it adds, in a few words, for `backendkit recipes`. */
  adds: readonly string[]
  /** Its section of the generated README (Markdown, without the heading). */
  readme: string
  /** Where its template files are, relative to the package root. */
  templateDir: string
}

type RecipeInput<Name extends string> = Omit<
  Recipe<Name>,
  'requires' | 'dependencies' | 'devDependencies' | 'env' | 'scripts' | 'templateDir'
> &
  Partial<
    Pick<
      Recipe<Name>,
      'requires' | 'dependencies' | 'devDependencies' | 'env' | 'scripts' | 'templateDir'
    >
  >

/** A recipe is data plus its own template files (recipes/<name>/files unless it says otherwise). */
export function defineRecipe<const Name extends string>(input: RecipeInput<Name>): Recipe<Name> {
  return {
    requires: [],
    dependencies: [],
    devDependencies: [],
    env: [],
    scripts: {},
    templateDir: `recipes/${input.name}/files`,
    ...input,
  }
}
