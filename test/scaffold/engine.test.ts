import { describe, expect, it } from 'vitest'
import pkg from '../../package.json' with { type: 'json' }
import { vendoredTarball } from '../../src/scaffold/backendkit-dependency.js'
import { npmNameProblem, toPackageName } from '../../src/scaffold/npm-name.js'
import {
  backingServices,
  envContext,
  isSecretVariable,
  planProject,
  renderModules,
  resourceName,
} from '../../src/scaffold/plan.js'
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

describe('src/modules.ts', () => {
  it.each([
    [
      ['core', 'database', 'redis'],
      'export const modules: readonly AppModule[] = [database, redis]\n',
    ],
    [
      recipeNames,
      `export const modules: readonly AppModule[] = [\n${recipeNames
        .flatMap((r) => {
          const module = recipes[r].module
          return module ? [`  ${module.name},\n`] : []
        })
        .join('')}]\n`,
    ],
  ] as const)(
    'lists the modules as Biome formats them, one a line past 100 columns (%j)',
    (installed, list) => {
      expect(renderModules(installed).endsWith(`\n\n${list}`)).toBe(true)
    },
  )
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

describe('what deploy files derive from the project', () => {
  it.each([
    ['DATABASE_URL', true],
    ['AMQP_URL', true],
    ['JWT_SECRET', true],
    ['ADMIN_PASSWORD', true],
    ['METRICS_TOKEN', true],
    ['REDIS_KEY_PREFIX', false],
    ['CORS_ORIGINS', false],
    ['PORT', false],
  ])('%s is a secret: %s', (name, secret) => expect(isSecretVariable(name)).toBe(secret))

  it('settings take their production value; secrets are listed apart, each once', () => {
    const env = planProject('demo', recipeNames).env
    const { settings, secrets } = envContext(env)
    expect(settings).toContainEqual(
      expect.objectContaining({ name: 'NODE_ENV', value: 'production' }),
    )
    expect(settings).toContainEqual(expect.objectContaining({ name: 'PORT', value: '3000' }))
    expect(secrets.map((s) => s.name)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET']),
    )
    const names = [...settings, ...secrets].map((v) => v.name)
    expect(new Set(names).size).toBe(names.length)
  })

  it('knows the backing services from the variables the recipes read', () => {
    expect(backingServices(planProject('demo', ['core']).env)).toEqual({
      postgres: false,
      redis: false,
      rabbitmq: false,
      any: false,
    })
    expect(
      backingServices([
        { recipe: 'core', vars: [{ name: 'AMQP_URL', example: '', description: '' }] },
      ]),
    ).toMatchObject({ rabbitmq: true, any: true })
    expect(backingServices(planProject('demo', recipeNames).env)).toMatchObject({
      postgres: true,
      redis: true,
    })
  })

  it.each([
    ['my-api', 'my-api'],
    ['@acme/my-api', 'acme-my-api'],
    ['api.v2', 'api-v2'],
    ['x'.repeat(60), 'x'.repeat(40)],
  ])('the package %j is the resource %j', (name, expected) =>
    expect(resourceName(name)).toBe(expected),
  )

  it.each([
    ['file:vendor/backendkit-0.1.0.tgz', 'vendor/backendkit-0.1.0.tgz'],
    ['file:./vendor/backendkit-0.1.0.tgz', 'vendor/backendkit-0.1.0.tgz'],
    ['0.1.0', undefined],
    ['file:/abs/checkout', undefined],
    [undefined, undefined],
  ])('the backendkit spec %j ships the tarball %j', (spec, tarball) =>
    expect(vendoredTarball(spec)).toBe(tarball),
  )

  it('a project without a database has no migration Job, and its kustomization lists none', () => {
    const files = (recipes: Parameters<typeof planProject>[1]) =>
      planProject('demo', recipes).files.map((f) => f.path)
    expect(files(['core', 'deploy'])).not.toContain(
      'deploy/kubernetes/base/shared/migrate-job.yaml',
    )
    expect(files(['core', 'database', 'deploy'])).toContain(
      'deploy/kubernetes/base/shared/migrate-job.yaml',
    )
    const kustomization = planProject('demo', ['core', 'deploy'])
      .files.find((f) => f.path === 'deploy/kubernetes/base/shared/kustomization.yaml')!
      .content.toString()
    expect(kustomization).not.toContain('migrate-job.yaml')
  })
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
