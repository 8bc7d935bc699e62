import { spawn } from 'node:child_process'
import { mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import { recipeNames } from '../../src/scaffold/registry.js'
import { repoRoot, runBin } from '../support/cli.js'
import { testServices } from '../support/env.js'

/**
 * Every recipe alone (with what it requires) and the complete service: generated, typechecked,
 * linted, and passing their own test suite in shuffled order against the real services. A
 * recipe that only works next to the others fails here. The combinations run two at a time
 * (this machine has two cores); each test file of a generated suite has its own database and
 * Redis prefix, so they do not collide.
 */

function run(cwd: string, command: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, CI: 'true', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code) => resolve({ code, output: stripVTControlCharacters(output) }))
  })
}

async function generate(recipe: string): Promise<{ root: string }> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'bk-matrix-'))
  const result = await runBin(['new', 'svc', '--no-install', '--no-git', '--recipes', recipe], {
    cwd,
  })
  expect(result.code, result.stderr).toBe(0)
  const root = path.join(cwd, 'svc')
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
  return { root }
}

const bin = (name: string) => path.join(repoRoot, 'node_modules/.bin', name)

/** At most `limit` at a time. */
function limiter(limit: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
    try {
      return await task()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}
const twoAtATime = limiter(2)

// The complete service is tested the same way, and booted, in generated.test.ts.
describe.concurrent.each(recipeNames)('%s, with what it requires', (recipe) => {
  it('typechecks, lints, and passes its own tests in any order', { timeout: 300_000 }, () =>
    twoAtATime(() => check(recipe)),
  )
})

async function check(recipe: string): Promise<void> {
  const { root } = await generate(recipe)
  const typecheck = await run(root, bin('tsc'), ['-p', 'tsconfig.test.json'])
  expect(typecheck.code, typecheck.output).toBe(0)
  const lint = await run(root, bin('biome'), ['check', '.'])
  expect(lint.code, lint.output).toBe(0)
  const tests = await run(root, bin('vitest'), ['run', '--sequence.shuffle'], {
    TEST_DATABASE_URL: testServices.postgresAdminUrl,
    TEST_REDIS_URL: testServices.redisUrl,
    TEST_AMQP_URL: testServices.amqpUrl,
  })
  expect(tests.code, tests.output).toBe(0)
  expect(tests.output).toMatch(/Tests\s+\d+ passed/)
  expect(tests.output).not.toMatch(/\d+ skipped/)
}
