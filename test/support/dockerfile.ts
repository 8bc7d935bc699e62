import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync } from 'node:fs'
import path from 'node:path'

/**
 * A Dockerfile read the way BuildKit reads it, for the two things the tests do with the generated
 * one: check it against the house rules (no linter for Dockerfiles ships on npm or in Debian
 * here: hadolint is neither), and run its runtime stage's steps for real in a folder, since no
 * container engine can pull a base image here.
 */

export interface Instruction {
  keyword: string
  /** `--from=build`, `--mount=type=cache,…`, `--interval=10s`: the flags before the arguments. */
  flags: Record<string, string>
  /** The arguments after the flags, continuation lines joined. */
  args: string
  line: number
}

export interface Stage {
  /** `AS <name>`, if any. */
  name: string | undefined
  /** The base image, build arguments substituted. */
  image: string
  instructions: Instruction[]
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  args: Record<string, string>
  stages: Stage[]
}

function splitFlags(rest: string): { flags: Record<string, string>; args: string } {
  const flags: Record<string, string> = {}
  let args = rest
  for (;;) {
    const match = args.match(/^--([a-z-]+)(?:=(\S*))?\s*/)
    if (!match) break
    flags[match[1] as string] = match[2] ?? 'true'
    args = args.slice(match[0].length)
  }
  return { flags, args: args.trim() }
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = []
  let pending: { text: string; line: number } | undefined
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd()
    if (!pending && (/^\s*#/.test(line) || line.trim() === '')) return
    if (pending && /^\s*#/.test(line)) return // comments may sit inside a continued instruction
    const piece = line.endsWith('\\') ? line.slice(0, -1) : line
    pending = pending
      ? { ...pending, text: `${pending.text} ${piece.trim()}` }
      : { text: piece.trim(), line: index + 1 }
    if (line.endsWith('\\')) return
    const [keyword = '', ...rest] = pending.text.split(/\s+/)
    instructions.push({
      keyword: keyword.toUpperCase(),
      ...splitFlags(rest.join(' ')),
      line: pending.line,
    })
    pending = undefined
  })
  const args: Record<string, string> = {}
  const stages: Stage[] = []
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/)
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => args[arg] ?? '')
      stages.push({
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        image: resolved,
        instructions: [],
      })
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name = '', value = ''] = instruction.args.split('=')
        args[name] = value
      }
    } else {
      stages.at(-1)?.instructions.push(instruction)
    }
  }
  return { args, stages }
}

const secretName = /(SECRET|PASSWORD|TOKEN|_KEY|_URL|CREDENTIALS)$/i

/** The exec form's array (`["node", "dist/server.js"]`), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined
  try {
    const parsed = JSON.parse(args) as unknown
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : undefined
  } catch {
    return undefined
  }
}

/** Paths a `.dockerignore` keeps out of the build context (its plain entries). */
function ignored(dockerignore: string): Set<string> {
  return new Set(
    dockerignore
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('!')),
  )
}

/**
 * Everything wrong with a Dockerfile by the house rules, one line each (empty: none). A
 * production image is built in stages from pinned images, installs with `npm ci` (production
 * dependencies only in the last stage), runs as a non-root user with a healthcheck and node as
 * PID 1, and never carries a secret or the whole source tree.
 */
export function checkDockerfile(text: string, dockerignore: string): string[] {
  const problems: string[] = []
  const { stages } = parseDockerfile(text)
  const final = stages.at(-1)
  if (stages.length < 2 || !final) {
    problems.push('not multi-stage: build in one stage, run from a smaller one')
    return problems
  }
  for (const stage of stages) {
    const pinned =
      /@sha256:[0-9a-f]{64}$/.test(stage.image) || /:(?!latest$)[\w.-]+$/.test(stage.image)
    if (!pinned) problems.push(`base image "${stage.image}" is not pinned to a tag or digest`)
    for (const instruction of stage.instructions) {
      const where = `line ${instruction.line}`
      if (instruction.keyword === 'ENV' || instruction.keyword === 'ARG') {
        for (const pair of instruction.args.split(/\s+/)) {
          const [name = '', value] = pair.split('=')
          if (secretName.test(name) && value) {
            problems.push(`${where}: ${instruction.keyword} ${name} puts a secret in a layer`)
          }
        }
      }
      if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
        const sources = instruction.args.split(/\s+/).slice(0, -1)
        if (sources.some((source) => /(^|\/)\.env($|\.(?!example$))/.test(source))) {
          problems.push(`${where}: copies an env file into a layer`)
        }
        if (sources.includes('.') && !instruction.flags.from) {
          const excluded = ignored(dockerignore)
          for (const must of ['.env', '.git', 'node_modules']) {
            if (!excluded.has(must)) {
              problems.push(`${where}: COPY . . while .dockerignore does not exclude ${must}`)
            }
          }
          if (stage === final)
            problems.push(`${where}: the runtime stage copies the whole source tree`)
        }
      }
      if (instruction.keyword === 'RUN' && /\bnpm (install|i)\b/.test(instruction.args)) {
        problems.push(`${where}: npm install: use npm ci (exactly the lock file)`)
      }
    }
  }
  const finalRuns = final.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)
  if (!finalRuns.some((run) => /\bnpm ci\b.*--omit=dev/.test(run))) {
    problems.push('the runtime stage does not install with npm ci --omit=dev')
  }
  if (!final.instructions.some((i) => i.keyword === 'COPY' && i.flags.from)) {
    problems.push('the runtime stage copies nothing built by an earlier stage')
  }
  const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args
  if (!user || /^(root|0)(:|$)/.test(user)) problems.push('the runtime stage runs as root')
  if (!final.instructions.some((i) => i.keyword === 'HEALTHCHECK' && i.args !== 'NONE')) {
    problems.push('the runtime stage has no HEALTHCHECK')
  }
  const cmd = final.instructions.filter((i) => i.keyword === 'CMD').at(-1)
  const argv = cmd && execForm(cmd.args)
  if (!argv) problems.push('CMD is missing or in shell form: SIGTERM would not reach node')
  else if (argv[0] === 'npm') problems.push('CMD runs npm: SIGTERM would not reach node')
  return problems
}

export interface StageRun {
  env: Record<string, string>
  user: string | undefined
  /** CMD's argv. */
  cmd: string[]
  /** HEALTHCHECK's CMD argv. */
  healthcheck: string[]
}

/**
 * Runs a stage's steps for real in `target` (standing for its WORKDIR): COPY from the build
 * context or, `--from=<stage>`, from that stage's folder; RUN through sh (build cache mounts
 * dropped; `env` adds e.g. npm's offline preference); ENV and USER recorded. Throws on a step
 * that fails, naming it.
 */
export function runStage(
  stage: Stage,
  options: {
    context: string
    target: string
    /** Where each earlier stage's WORKDIR is on this machine. */
    stages: Record<string, string>
    env?: Record<string, string>
  },
): StageRun {
  const run: StageRun = { env: {}, user: undefined, cmd: [], healthcheck: [] }
  let workdir = '/'
  mkdirSync(options.target, { recursive: true })
  const local = (containerPath: string, root: string, base: string) =>
    path.join(root, path.relative(base, path.posix.resolve(workdir, containerPath)))
  for (const instruction of stage.instructions) {
    const parts = instruction.args.split(/\s+/)
    switch (instruction.keyword) {
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir, instruction.args)
        break
      case 'ENV':
        for (const pair of parts) {
          const [name = '', value = ''] = pair.split('=')
          run.env[name] = value
        }
        break
      case 'USER':
        run.user = instruction.args
        break
      case 'COPY': {
        const dest = parts.at(-1) as string
        for (const source of parts.slice(0, -1)) {
          const from = instruction.flags.from
          const origin = from
            ? path.join(options.stages[from] ?? '', path.posix.relative(workdir, source))
            : path.join(options.context, source)
          const destination = local(dest, options.target, workdir)
          const into = dest.endsWith('/')
            ? path.join(destination, path.basename(source))
            : destination
          mkdirSync(path.dirname(into), { recursive: true })
          cpSync(origin, into, { recursive: true })
        }
        break
      }
      case 'RUN': {
        const result: SpawnSyncReturns<string> = spawnSync('sh', ['-c', instruction.args], {
          cwd: options.target,
          encoding: 'utf8',
          env: { ...process.env, ...run.env, ...options.env },
        })
        if (result.status !== 0) {
          throw new Error(
            `RUN ${instruction.args} (line ${instruction.line}) failed:\n${result.stdout}\n${result.stderr}`,
          )
        }
        break
      }
      case 'CMD':
        run.cmd = execForm(instruction.args) ?? ['sh', '-c', instruction.args]
        break
      case 'HEALTHCHECK': {
        const command = instruction.args.replace(/^CMD\s+/, '')
        run.healthcheck = execForm(command) ?? ['sh', '-c', command]
        break
      }
      default:
        break // EXPOSE, LABEL, ARG: nothing to do outside a container
    }
  }
  return run
}
