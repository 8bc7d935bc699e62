import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addOptions } from '../../src/commands/options.js'
import { globalOptions } from '../../src/commands/shared-options.js'
import { createContext } from '../../src/core/context.js'
import type { Io } from '../../src/core/io.js'

/** A project folder holding the given backendkit.json and .env (either may be absent). */
function project(config: object | undefined, envFile?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bk-ctx-'))
  if (config) writeFileSync(path.join(dir, 'backendkit.json'), JSON.stringify(config))
  if (envFile !== undefined) writeFileSync(path.join(dir, '.env'), envFile)
  return dir
}

function contextFor(argv: string[], cwd: string, env: Record<string, string> = {}) {
  const command = addOptions(new Command('t'), globalOptions).parse(argv, { from: 'user' })
  const quiet = { write: () => true }
  const io: Io = {
    stdout: quiet,
    stderr: quiet,
    stdin: {},
    env,
    cwd,
    prompt: { confirm: async () => false },
  }
  return createContext(io, command)
}

describe('the Redis key prefix: --prefix > REDIS_KEY_PREFIX (env, then env file) > backendkit.json > "<name>:"', () => {
  const config = { name: 'shop', redis: { keyPrefix: 'from-json:' } }
  it.each([
    [
      'the flag',
      ['--prefix', 'flag:'],
      { REDIS_KEY_PREFIX: 'env:' },
      config,
      'REDIS_KEY_PREFIX=file:',
      'flag:',
    ],
    ['an empty flag', ['--prefix', ''], { REDIS_KEY_PREFIX: 'env:' }, config, undefined, ''],
    ['the environment', [], { REDIS_KEY_PREFIX: 'env:' }, config, 'REDIS_KEY_PREFIX=file:', 'env:'],
    ['the env file', [], {}, config, 'REDIS_KEY_PREFIX=file:', 'file:'],
    ['backendkit.json', [], {}, config, '', 'from-json:'],
    ['the project name', [], {}, { name: 'shop' }, undefined, 'shop:'],
    ['nothing at all', [], {}, undefined, undefined, ''],
  ])('%s wins', (_, argv, env, json, envFile, expected) => {
    expect(contextFor(argv, project(json, envFile), env).keyPrefix()).toBe(expected)
  })

  it('a broken backendkit.json does not matter once the prefix is given', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bk-ctx-'))
    writeFileSync(path.join(dir, 'backendkit.json'), '{ broken')
    expect(contextFor(['--prefix', 'p:'], dir).keyPrefix()).toBe('p:')
    expect(() => contextFor([], dir).keyPrefix()).toThrow(/not valid JSON/)
  })
})
