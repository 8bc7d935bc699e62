import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot, runCli } from '../support/cli.js'
import { closedPort, testServices } from '../support/env.js'
import { makeProject } from '../support/project.js'
import { queryDatabase, useTestDatabase } from '../support/services.js'

/**
 * `backendkit flags` against a real PostgreSQL holding the flags recipe's own migration, and a
 * real Redis listening on the flags channel, as the service's instances do.
 */

const db = useTestDatabase('flags')
const channel = `flags-test-${process.pid}-${Date.now()}:flags`
const project = makeProject({ name: 'demo', flags: { table: 'feature_flags', channel } })
const listener = new Redis(testServices.redisUrl)
const announcements: { flag: string; action: string }[] = []

beforeAll(async () => {
  copyFileSync(
    path.join(repoRoot, 'recipes/flags/files/src/db/migrations/20260101000400_feature_flags.ts'),
    path.join(project.migrations, '20260101000400_feature_flags.ts'),
  )
  const migrated = await runCli(['migrate', 'up', '--cwd', project.root], {
    env: { DATABASE_URL: db.url },
  })
  expect(migrated.code, migrated.stderr).toBe(0)
  listener.on('message', (_channel, message) => announcements.push(JSON.parse(message)))
  await listener.subscribe(channel)
})
afterAll(() => listener.quit())

const env = { DATABASE_URL: db.url, REDIS_URL: testServices.redisUrl, BACKENDKIT_ACTOR: 'ci' }

function flags(
  args: string[],
  options: { tty?: boolean; answers?: boolean[]; env?: Record<string, string> } = {},
) {
  return runCli(['flags', ...args, '--cwd', project.root], {
    ...options,
    env: { ...env, ...options.env },
  })
}

async function json(args: string[], extraEnv: Record<string, string> = {}) {
  const result = await flags([...args, '--json'], { env: extraEnv })
  return { code: result.code, data: JSON.parse(result.stdout), stderr: result.stderr }
}

let counter = 0
const freshFlag = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}`

const history = (name: string) =>
  queryDatabase<{ action: string; actor: string; before: unknown; after: unknown }>(
    db.url,
    'select action, actor, before, after from feature_flags_history where flag = $1 order by id',
    [name],
  )

const row = async (name: string) =>
  (await queryDatabase(db.url, 'select * from feature_flags where name = $1', [name]))[0]

describe('backendkit flags set', () => {
  it('creates a flag only with --create: a typo cannot create one', async () => {
    const name = freshFlag('typo')
    const refused = await flags(['set', name, '--on', '--yes'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/no flag named .*\nhint: Pass --create/)
    expect(await row(name)).toBeUndefined()

    const { code, data } = await json([
      'set',
      name,
      '--create',
      '--on',
      '--percentage',
      '25',
      '--allow',
      'u1, u2',
      '--description',
      'The new checkout',
      '--yes',
    ])
    expect(code).toBe(0)
    expect(data).toEqual({
      flag: name,
      action: 'create',
      dryRun: false,
      before: null,
      after: {
        enabled: true,
        percentage: 25,
        allow: ['u1', 'u2'],
        deny: [],
        description: 'The new checkout',
      },
      changes: expect.arrayContaining([{ field: 'percentage', before: null, after: 25 }]),
      actor: 'ci',
      at: expect.any(String),
      historyId: expect.any(Number),
      published: true,
    })
    expect(await row(name)).toMatchObject({
      enabled: true,
      percentage: 25,
      allow_list: ['u1', 'u2'],
      updated_by: 'ci',
    })
  })

  it('changes production behaviour: exit 2 and nothing changed without --yes and a terminal', async () => {
    const name = freshFlag('guarded')
    await flags(['set', name, '--create', '--off', '--yes'])
    const refused = await flags(['set', name, '--on'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/Refusing to change flag .* without confirmation[\s\S]*--yes/)
    expect(await row(name)).toMatchObject({ enabled: false })
    expect(await history(name)).toHaveLength(1)
  })

  it('asks on a terminal, saying before → after; no changes nothing', async () => {
    const name = freshFlag('asked')
    await flags(['set', name, '--create', '--off', '--yes'])
    const declined = await flags(['set', name, '--on', '--percentage', '10'], {
      tty: true,
      answers: [false],
    })
    expect(declined.code).toBe(1)
    expect(declined.prompts).toEqual([
      expect.stringMatching(
        new RegExp(`^Change flag ${name} \\(enabled false → true, percentage 100 → 10\\)`),
      ),
    ])
    expect(await row(name)).toMatchObject({ enabled: false, percentage: 100 })
    const accepted = await flags(['set', name, '--on'], { tty: true, answers: [true] })
    expect(accepted.code).toBe(0)
    expect(accepted.stdout).toMatch(/changed by ci \(history #\d+\):\n {2}enabled false → true/)
    expect(await row(name)).toMatchObject({ enabled: true })
  })

  it('--dry-run prints before → after and changes nothing', async () => {
    const name = freshFlag('dry')
    await flags(['set', name, '--create', '--on', '--yes'])
    const { code, data } = await json([
      'set',
      name,
      '--percentage',
      '5',
      '--deny',
      'u9',
      '--dry-run',
    ])
    expect(code).toBe(0)
    expect(data).toMatchObject({
      action: 'update',
      dryRun: true,
      before: { percentage: 100, deny: [] },
      after: { percentage: 5, deny: ['u9'] },
      changes: [
        { field: 'percentage', before: 100, after: 5 },
        { field: 'deny', before: [], after: ['u9'] },
      ],
      historyId: null,
      published: null,
    })
    const text = await flags(['set', name, '--off', '--dry-run'])
    expect(text.stdout).toMatch(/would be changed:\n {2}enabled true → false\nDry run/)
    expect(await row(name)).toMatchObject({ enabled: true, percentage: 100, deny_list: [] })
    expect(await history(name)).toHaveLength(1)
  })

  it('a set that changes nothing is not recorded', async () => {
    const name = freshFlag('same')
    await flags(['set', name, '--create', '--on', '--yes'])
    const { data } = await json(['set', name, '--on', '--yes'])
    expect(data).toMatchObject({ action: 'unchanged', changes: [], historyId: null })
    expect(await history(name)).toHaveLength(1)
  })

  it.each([
    [['set', 'New Checkout', '--on'], /"New Checkout" is not a valid flag name/],
    [['set', '-dash-first', '--on'], /unknown option|not a valid flag name/],
    [['get', 'a'.repeat(65)], /not a valid flag name/],
    [['set', 'ok-name', '--on', '--off'], /--on or --off, not both/],
    [['set', 'ok-name'], /Nothing to set/],
    [['set', 'ok-name', '--percentage', '101'], /--percentage <n>.*0 to 100/],
    [['set', 'ok-name', '--percentage', '2.5'], /--percentage <n>.*0 to 100/],
    [['set', 'ok-name', '--allow', 'x'.repeat(201)], /--allow: a user id has 1 to 200 characters/],
    [['eval', 'ok-name'], /needs --user/],
  ])('%j is a usage error (exit 2) with a hint', async (args, message) => {
    const result = await flags(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).toMatch(/^hint: /m)
  })

  it('announces each change on the flags channel, after it is committed', async () => {
    const name = freshFlag('announced')
    await flags(['set', name, '--create', '--on', '--yes'])
    await flags(['set', name, '--off', '--yes'])
    await flags(['delete', name, '--yes'])
    await expect
      .poll(() => announcements.filter((a) => a.flag === name).map((a) => a.action))
      .toEqual(['create', 'update', 'delete'])
  })

  it('with Redis unreachable the change is saved and the instances will poll for it', async () => {
    const name = freshFlag('unannounced')
    const result = await flags([
      'set',
      name,
      '--create',
      '--on',
      '--yes',
      '--json',
      '--redis-url',
      `redis://127.0.0.1:${closedPort}`,
    ])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ action: 'create', published: false })
    expect(result.stderr).toMatch(/saved but could not be announced.*FLAGS_POLL_INTERVAL_S/)
    expect(await row(name)).toMatchObject({ enabled: true })
  })
})

describe('who a change is recorded as', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'bk-home-'))
  const gitconfig = path.join(home, 'gitconfig')
  writeFileSync(gitconfig, '[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n')
  // Only the files the test names: no system or user git configuration leaks in.
  const isolated = { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }

  it.each([
    [
      '--actor',
      { BACKENDKIT_ACTOR: 'from-env', GIT_CONFIG_GLOBAL: gitconfig },
      ['--actor', 'alice'],
      'alice',
    ],
    [
      'BACKENDKIT_ACTOR',
      { BACKENDKIT_ACTOR: 'from-env', GIT_CONFIG_GLOBAL: gitconfig },
      [],
      'from-env',
    ],
    [
      'the git user',
      { BACKENDKIT_ACTOR: '', GIT_CONFIG_GLOBAL: gitconfig },
      [],
      'Ada Lovelace <ada@example.com>',
    ],
    ['the OS user', { BACKENDKIT_ACTOR: '' }, [], userInfo().username],
  ])('%s', async (_label, extraEnv, args, actor) => {
    const name = freshFlag('actor')
    const result = await flags(['set', name, '--create', '--on', '--yes', ...args], {
      env: { ...isolated, ...extraEnv },
    })
    expect(result.code, result.stderr).toBe(0)
    expect(await history(name)).toEqual([expect.objectContaining({ action: 'create', actor })])
    expect(await row(name)).toMatchObject({ updated_by: actor })
  })
})

describe('history', () => {
  it('records every change: who, when, before and after; a deleted flag keeps it', async () => {
    const name = freshFlag('history')
    await flags(['set', name, '--create', '--on', '--yes', '--actor', 'alice'])
    await flags(['set', name, '--percentage', '30', '--deny', 'u1', '--yes', '--actor', 'bob'])
    await flags(['set', name, '--off', '--yes', '--actor', 'carol'])
    const deleted = await json(['delete', name, '--yes', '--actor', 'dave'])
    expect(deleted.code).toBe(0)
    expect(deleted.data).toMatchObject({
      flag: name,
      deleted: true,
      actor: 'dave',
      published: true,
    })
    const { code, data } = await json(['history', name])
    expect(code).toBe(0)
    const on = { enabled: true, percentage: 100, allow: [], deny: [], description: '' }
    const rolled = { ...on, percentage: 30, deny: ['u1'] }
    const off = { ...rolled, enabled: false }
    expect(data).toEqual({
      flag: name,
      entries: [
        {
          id: expect.any(Number),
          action: 'delete',
          actor: 'dave',
          at: expect.any(String),
          before: off,
          after: null,
        },
        {
          id: expect.any(Number),
          action: 'update',
          actor: 'carol',
          at: expect.any(String),
          before: rolled,
          after: off,
        },
        {
          id: expect.any(Number),
          action: 'update',
          actor: 'bob',
          at: expect.any(String),
          before: on,
          after: rolled,
        },
        {
          id: expect.any(Number),
          action: 'create',
          actor: 'alice',
          at: expect.any(String),
          before: null,
          after: on,
        },
      ],
    })
    const ids = data.entries.map((e: { id: number }) => e.id)
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    const text = await flags(['history', name, '--limit', '2'])
    expect(text.stdout).toMatch(/dave\s+delete\s+deleted/)
    expect(text.stdout).toMatch(/carol\s+update\s+enabled true → false/)
    expect(text.stdout).not.toMatch(/alice/)
  })

  it('concurrent sets are all recorded, one after the other', async () => {
    const name = freshFlag('race')
    await flags(['set', name, '--create', '--on', '--yes'])
    const percentages = Array.from({ length: 12 }, (_, i) => i + 1)
    const results = await Promise.all(
      percentages.map((n) =>
        flags(['set', name, '--percentage', String(n), '--yes', '--actor', `worker-${n}`]),
      ),
    )
    for (const result of results) expect(result.code, result.stderr).toBe(0)
    const entries = (await history(name)) as {
      action: string
      actor: string
      before: { percentage: number } | null
      after: { percentage: number }
    }[]
    expect(entries).toHaveLength(13)
    expect(new Set(entries.slice(1).map((e) => e.actor)).size).toBe(12)
    // A chain: each change starts from the one before it, nothing overwritten unrecorded.
    for (let i = 1; i < entries.length; i++) {
      expect(entries[i]?.before).toEqual(entries[i - 1]?.after)
    }
    expect((await row(name))?.percentage).toBe(entries.at(-1)?.after.percentage)
  })

  it('concurrent --create of one new flag: one creation, the others change it', async () => {
    const name = freshFlag('race-create')
    const results = await Promise.all(
      [10, 20, 30, 40, 50].map((n) =>
        flags(['set', name, '--create', '--on', '--percentage', String(n), '--yes']),
      ),
    )
    for (const result of results) expect(result.code, result.stderr).toBe(0)
    const entries = await history(name)
    expect(entries.map((e) => e.action)).toEqual(['create', 'update', 'update', 'update', 'update'])
  })
})

describe('list, get, eval and delete', () => {
  it('list and get show every setting; get exits 1 for an unknown flag', async () => {
    const name = freshFlag('listed')
    await flags(['set', name, '--create', '--on', '--percentage', '40', '--allow', 'a', '--yes'])
    const { data: list } = await json(['list'])
    expect(list.table).toBe('feature_flags')
    expect(list.flags).toContainEqual({
      name,
      enabled: true,
      percentage: 40,
      allow: ['a'],
      deny: [],
      description: '',
      updatedAt: expect.any(String),
      updatedBy: 'ci',
    })
    const got = await json(['get', name])
    expect(got).toMatchObject({ code: 0, data: { name, found: true, flag: { percentage: 40 } } })
    const missing = await json(['get', freshFlag('missing')])
    expect(missing).toMatchObject({ code: 1, data: { found: false, flag: null } })
    const text = await flags(['list'])
    expect(text.stdout).toMatch(new RegExp(`${name}\\s+on\\s+40 %\\s+1\\s+-`))
  })

  it('eval answers {flag, user, enabled, reason}: deny beats allow beats percentage', async () => {
    const name = freshFlag('eval')
    await flags([
      'set',
      name,
      '--create',
      '--on',
      '--percentage',
      '0',
      '--allow',
      'vip,both',
      '--deny',
      'both,banned',
      '--yes',
    ])
    const evaluate = async (flag: string, user: string) =>
      (await json(['eval', flag, '--user', user])).data
    expect(await evaluate(name, 'both')).toEqual({
      flag: name,
      user: 'both',
      enabled: false,
      reason: 'deny',
    })
    expect(await evaluate(name, 'vip')).toEqual({
      flag: name,
      user: 'vip',
      enabled: true,
      reason: 'allow',
    })
    expect(await evaluate(name, 'someone')).toEqual({
      flag: name,
      user: 'someone',
      enabled: false,
      reason: 'percentage',
    })
    await flags(['set', name, '--off', '--yes'])
    expect(await evaluate(name, 'someone')).toMatchObject({ enabled: false, reason: 'off' })
    expect(await evaluate(name, 'vip')).toMatchObject({ enabled: true, reason: 'allow' })
    const unknown = freshFlag('unknown')
    expect(await evaluate(unknown, 'u')).toEqual({
      flag: unknown,
      user: 'u',
      enabled: false,
      reason: 'unknown',
    })
    const text = await flags(['eval', name, '--user', 'banned'])
    expect(text.stdout).toBe(`${name} is off for banned: the user is in its deny list.\n`)
  })

  it('delete asks (or needs --yes), exits 1 for an unknown flag, and --dry-run keeps it', async () => {
    const name = freshFlag('deleted')
    await flags(['set', name, '--create', '--on', '--yes'])
    expect((await flags(['delete', name])).code).toBe(2)
    const dry = await json(['delete', name, '--dry-run'])
    expect(dry).toMatchObject({
      code: 0,
      data: { deleted: false, dryRun: true, before: { enabled: true } },
    })
    expect(await row(name)).toBeDefined()
    const asked = await flags(['delete', name], { tty: true, answers: [true] })
    expect(asked.code).toBe(0)
    expect(asked.prompts[0]).toMatch(new RegExp(`^Delete flag ${name} \\(on for 100 %\\)`))
    expect(await row(name)).toBeUndefined()
    const again = await json(['delete', name, '--yes'])
    expect(again).toMatchObject({ code: 1, data: { deleted: false, before: null } })
  })

  it('says how to create the table when the migration has not run', async () => {
    const bare = makeProject({ name: 'bare', flags: { table: 'no_such_flags' } })
    const result = await runCli(['flags', 'list', '--cwd', bare.root], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /flags table no_such_flags .*does not exist[\s\S]*hint: Run `backendkit migrate up`/,
    )
  })
})
