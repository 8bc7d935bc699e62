import { describe, expect, it } from 'vitest'
import pkg from '../../package.json' with { type: 'json' }
import { npmNameProblem, toPackageName } from '../../src/scaffold/npm-name.js'
import { planProject, renderModules } from '../../src/scaffold/plan.js'
import { recipeNames, recipes } from '../../src/scaffold/registry.js'
import { outputName } from '../../src/scaffold/render.js'
import { parseRecipeList, resolveRecipes } from '../../src/scaffold/resolve.js'

describe('recipes', () => {
  it('every recipe comes after what it requires, and requires only known recipes', () => {
    recipeNames.forEach((name, index) => {
      for (const dependency of recipes[name].requires) {
        expect(
          recipeNames.indexOf(dependency as never),
          `${name} requires ${dependency}`,
        ).toBeGreaterThanOrEqual(0)
        expect(recipeNames.indexOf(dependency as never)).toBeLessThan(index)
      }
    })
  })

  it('resolves core always, requirements transitively, in registry order', () => {
    expect(resolveRecipes([])).toEqual(['core'])
    expect(resolveRecipes(recipeNames)).toEqual(recipeNames)
    for (const name of recipeNames) {
      const resolved = resolveRecipes([name])
      for (const dependency of recipes[name].requires) expect(resolved).toContain(dependency)
    }
  })

  it.each([[['nope']], [['core', 'redis-thing']]])(
    'an unknown recipe %j is a usage error listing the known ones',
    (names) => {
      expect(() => resolveRecipes(names)).toThrow(
        expect.objectContaining({ exitCode: 2, hint: expect.stringContaining('core') }),
      )
    },
  )

  it('core cannot be left out', () => {
    expect(() => resolveRecipes(recipeNames, ['core'])).toThrow(/core recipe cannot be left out/)
  })

  it.each([
    ['a,b', ['a', 'b']],
    [' a , ,b ', ['a', 'b']],
    ['', []],
  ])('parses the list %j', (input, expected) => expect(parseRecipeList(input)).toEqual(expected))
})

describe('one source of versions', () => {
  it('a generated package.json pins exactly the versions this repo runs its tests with', () => {
    const plan = planProject('demo', recipeNames)
    const generated = JSON.parse(
      plan.files.find((f) => f.path === 'package.json')!.content.toString(),
    )
    const ours: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies }
    for (const [name, version] of Object.entries({
      ...generated.dependencies,
      ...generated.devDependencies,
    })) {
      expect(version, name).toBe(ours[name])
    }
    expect(Object.keys(generated.dependencies)).toContain('express')
  })
})

describe('rendering', () => {
  it.each([
    ['_gitignore', '.gitignore'],
    ['_env.example', '.env.example'],
    ['README.md.hbs', 'README.md'],
    ['app.ts', 'app.ts'],
    ['_npmrc.hbs', '.npmrc'],
  ])('%s is written as %s', (template, output) => expect(outputName(template)).toBe(output))

  it('plans every file once, dotfiles renamed, modules registry and checksums generated', () => {
    const plan = planProject('demo', ['core'])
    const paths = plan.files.map((f) => f.path)
    expect(new Set(paths).size).toBe(paths.length)
    expect(paths).toEqual(
      expect.arrayContaining([
        '.gitignore',
        '.nvmrc',
        'src/modules.ts',
        '.backendkit/checksums.json',
        'README.md',
      ]),
    )
    expect(
      paths.some((p) => p.endsWith('.hbs') || p.split('/').some((s) => s.startsWith('_'))),
    ).toBe(false)
    const readme = plan.files.find((f) => f.path === 'README.md')!.content.toString()
    expect(readme).toMatch(/^# demo/)
    expect(readme).toContain(recipes.core.readme().split('\n')[0])
  })
})

describe('src/modules.ts', () => {
  it.each([
    [
      ['core', 'database', 'redis'] as const,
      'export const modules: readonly AppModule[] = [database, redis]\n',
    ],
    [recipeNames, 'export const modules: readonly AppModule[] = [\n  database,\n'],
  ])(
    'is written as Biome formats it: one line while it fits in 100 columns (%j)',
    (installed, expected) => {
      const text = renderModules(installed)
      expect(text).toContain(expected)
      expect(text.split('\n').every((line) => line.length <= 100)).toBe(true)
    },
  )
})

describe('npm package names', () => {
  it.each(['my-api', '@acme/my-api', 'api.v2', 'a'])('%s is valid', (name) =>
    expect(npmNameProblem(name)).toBeUndefined(),
  )
  it.each(['', 'My-Api', '.hidden', 'has space', 'node_modules', 'x'.repeat(215), '@/x'])(
    '%j is not',
    (name) => expect(npmNameProblem(name)).toBeDefined(),
  )
  it.each([
    ['My API', 'my-api'],
    ['__x__', 'x'],
  ])('folder %j → package %j', (folder, name) => expect(toPackageName(folder)).toBe(name))
})
