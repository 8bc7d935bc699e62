// Builds dist/ for the published bin. tsc typechecks (npm run typecheck); esbuild emits, because a
// bundle starts faster: `backendkit --help` must cost little more than `node -e 0`.
//
// - The cold path (src/cli.ts, the command specs and commander) is one file. Implementations stay
//   behind dynamic import() in chunks of their own, and every other dependency (pg, kysely,
//   ioredis, …) stays external, loaded from node_modules only when a command runs.
// - Node built-ins are taken with process.getBuiltinModule() instead of `import`: importing a
//   built-in as ESM builds a namespace that reads every export, which runs lazy getters
//   (fs.promises, fs streams, …). child_process is loaded only when first used: commander
//   imports it for executable subcommands, which backendkit does not have.
import { readFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { build } from 'esbuild'

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))
const bundled = new Set(['commander'])
const external = Object.keys(pkg.dependencies)
  .filter((name) => !bundled.has(name))
  .flatMap((name) => [name, `${name}/*`])

const require = createRequire(import.meta.url)
const identifier = /^[A-Za-z_$][\w$]*$/
const lazy = new Set(['child_process'])

/** ESM source for one built-in: a default export and its plain (non-getter) members by name. */
function builtinShim(name) {
  const id = JSON.stringify(`node:${name}`)
  const mod = require(`node:${name}`)
  const names = Object.keys(mod).filter(
    (key) =>
      identifier.test(key) && key !== 'default' && !Object.getOwnPropertyDescriptor(mod, key)?.get,
  )
  if (lazy.has(name)) {
    const functions = names.filter((key) => typeof mod[key] === 'function')
    return [
      `const load = () => process.getBuiltinModule(${id})`,
      'export default new Proxy({}, { get: (_, key) => load()[key] })',
      ...functions.map(
        (key) => `export function ${key}(...args) { return load().${key}(...args) }`,
      ),
    ].join('\n')
  }
  // Pure annotations let esbuild drop every member nothing imports, so no unused getter runs.
  return [
    `const m = process.getBuiltinModule(${id})`,
    'const get = (key) => m[key]',
    'export default m',
    ...names.map((key) => `export const ${key} = /* @__PURE__ */ get(${JSON.stringify(key)})`),
  ].join('\n')
}

const builtins = {
  name: 'builtins',
  setup(b) {
    const names = new Set(builtinModules)
    // One shim per importing file, so a shim is never a chunk of its own that the cold path
    // would have to load as an extra file.
    b.onResolve({ filter: /^[a-z_/]+$|^node:/ }, (args) => {
      const name = args.path.replace(/^node:/, '')
      if (!names.has(name)) return undefined
      return { path: `${name}|${args.importer}`, namespace: 'builtin' }
    })
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: builtinShim(args.path.split('|')[0]),
      loader: 'js',
    }))
  },
}

await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.12',
  chunkNames: 'chunks/[name]-[hash]',
  external,
  plugins: [builtins],
  logLevel: 'warning',
})

// The JSON Schema of backendkit.json, from the same zod schema the CLI validates with; generated
// projects reference it in "$schema" for editor completion and checks.
const schemaModule = 'dist/.project-config.mjs'
await build({
  entryPoints: ['src/core/project-config.ts'],
  outfile: schemaModule,
  bundle: true,
  format: 'esm',
  platform: 'node',
  external: ['zod'],
  logLevel: 'warning',
})
const { projectConfigJsonSchema } = await import(`./${schemaModule}`)
const { rmSync, writeFileSync } = await import('node:fs')
const jsonSchema = {
  title: 'backendkit.json',
  description:
    "A backendkit project's conventions, shared by the service and the operate commands.",
  ...projectConfigJsonSchema(),
}
writeFileSync('dist/backendkit.schema.json', `${JSON.stringify(jsonSchema, null, 2)}\n`)
rmSync(schemaModule)
