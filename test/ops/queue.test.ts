import { Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { BullFixture } from '../support/bull.js'
import { runCli } from '../support/cli.js'
import { makeProject } from '../support/project.js'
import { useRedisPrefix } from '../support/services.js'

// `backendkit queue` on real BullMQ queues: each test has a queue prefix of its own (under this
// file's Redis prefix, deleted afterwards) and jobs a real worker failed or completed.

const space = useRedisPrefix('queue')
let run = 0
let bull: BullFixture
const fixtures: BullFixture[] = []
afterAll(async () => {
  for (const fixture of fixtures) await fixture.close()
})
beforeEach(() => {
  bull = new BullFixture(`${space.prefix}bull${++run}`)
  fixtures.push(bull)
})

function queue(args: string[], options: { tty?: boolean; answers?: boolean[] } = {}) {
  return runCli(['queue', ...args, '--queue-prefix', bull.prefix], {
    env: { REDIS_URL: space.url },
    ...options,
  })
}

const json = async (args: string[]) => {
  const result = await queue([...args, '--json'])
  return { code: result.code, data: JSON.parse(result.stdout), stderr: result.stderr }
}

const counts = (name: string) =>
  bull.queue(name).getJobCounts('waiting', 'failed', 'completed', 'delayed', 'active')

describe('queue list', () => {
  it('finds every queue under the prefix with its jobs per state, paused or not', async () => {
    await bull.run('emails', [...bull.failing('welcome', 2), { name: 'welcome' }])
    await bull.queue('emails').add('later', {}, { delay: 3_600_000 })
    await bull.run('webhooks', [{ name: 'deliver' }])
    await bull.queue('webhooks').pause()
    await bull.queue('webhooks').add('deliver', {})
    const { code, data } = await json(['list'])
    expect(code).toBe(0)
    expect(data).toEqual({
      prefix: bull.prefix,
      queues: [
        {
          name: 'emails',
          paused: false,
          counts: {
            waiting: 0,
            active: 0,
            delayed: 1,
            prioritized: 0,
            'waiting-children': 0,
            failed: 2,
            completed: 1,
            paused: 0,
          },
        },
        {
          name: 'webhooks',
          paused: true,
          counts: {
            waiting: 1,
            active: 0,
            delayed: 0,
            prioritized: 0,
            'waiting-children': 0,
            failed: 0,
            completed: 1,
            paused: 1,
          },
        },
      ],
    })
    const text = await queue(['list'])
    expect(text.stdout).toMatch(/^QUEUE\s+WAITING\s+ACTIVE/m)
    expect(text.stdout).toMatch(/^webhooks\s+1\s+0\s+0\s+0\s+0\s+0\s+1\s+paused$/m)
  })

  it('an empty prefix lists nothing (exit 0); the prefix comes from QUEUE_PREFIX or backendkit.json', async () => {
    const empty = await queue(['list'])
    expect(empty.code).toBe(0)
    expect(empty.stdout).toContain(`No queues under the prefix "${bull.prefix}"`)
    await bull.run('reports', [{ name: 'nightly' }])
    const viaEnv = await runCli(['queue', 'list', '--json'], {
      env: { REDIS_URL: space.url, QUEUE_PREFIX: bull.prefix },
    })
    expect(JSON.parse(viaEnv.stdout).queues.map((q: { name: string }) => q.name)).toEqual([
      'reports',
    ])
    const project = makeProject({ name: 'demo', queues: { prefix: bull.prefix } })
    const viaConfig = await runCli(['queue', 'list', '--json'], {
      cwd: project.root,
      env: { REDIS_URL: space.url },
    })
    expect(JSON.parse(viaConfig.stdout).prefix).toBe(bull.prefix)
  })
})

describe('queue inspect', () => {
  it('lists failed jobs newest first with reason and attempts; --job shows one in full, secrets redacted', async () => {
    const [first, second] = await bull.run('emails', [
      {
        name: 'welcome',
        data: { to: 'a@example.com', password: 'hunter2' },
        fail: 'SMTP 421 busy',
      },
      { name: 'welcome', data: { to: 'b@example.com' }, fail: 'ETIMEDOUT' },
      { name: 'welcome', data: { to: 'c@example.com' } },
    ])
    const { code, data } = await json(['inspect', 'emails'])
    expect(code).toBe(0)
    expect(data).toMatchObject({ queue: 'emails', state: 'failed', total: 2 })
    expect(data.jobs.map((j: { id: string }) => j.id)).toEqual([second?.id, first?.id])
    expect(data.jobs[1]).toMatchObject({
      name: 'welcome',
      state: 'failed',
      attemptsMade: 1,
      maxAttempts: 1,
      failedReason: 'SMTP 421 busy',
      data: { to: 'a@example.com', password: '[redacted]' },
      createdAt: expect.any(String),
      finishedAt: expect.any(String),
    })
    const one = await json(['inspect', 'emails', '--job', String(first?.id)])
    expect(one.code).toBe(0)
    expect(one.data.job.stacktrace[0]).toMatch(/^Error: SMTP 421 busy\n\s+at /)
    expect(JSON.stringify(one.data)).not.toContain('hunter2')
    const text = await queue(['inspect', 'emails', '--job', String(first?.id)])
    expect(text.stdout).toMatch(/reason\s+SMTP 421 busy/)
    expect(text.stdout).not.toContain('hunter2')
    const completed = await json(['inspect', 'emails', '--state', 'completed'])
    expect(completed.data.jobs).toHaveLength(1)
    const missing = await queue(['inspect', 'emails', '--job', '404'])
    expect(missing.code).toBe(1)
  })

  it('shows a job that stalled past maxStalledCount (its worker died) as failed, saying so', async () => {
    const job = await bull.queue('emails').add('welcome', {}, { attempts: 3 })
    const settings = {
      prefix: bull.prefix,
      lockDuration: 1_000,
      stalledInterval: 300,
      maxStalledCount: 0,
    }
    // A worker that takes the job and dies with it: its lock is never renewed again.
    const dying = new Worker('emails', () => new Promise(() => {}), {
      ...settings,
      connection: bull.redis.duplicate(),
    })
    for (let i = 0; i < 100 && (await counts('emails')).active === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await dying.close(true)
    ;(dying.opts.connection as Redis).disconnect()
    const survivor = new Worker('emails', async () => {}, {
      ...settings,
      connection: bull.redis.duplicate(),
    })
    try {
      for (let i = 0; i < 200 && (await counts('emails')).failed === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } finally {
      await survivor.close()
      ;(survivor.opts.connection as Redis).disconnect()
    }
    const { data } = await json(['inspect', 'emails'])
    expect(data.jobs).toEqual([
      expect.objectContaining({
        id: String(job.id),
        state: 'failed',
        failedReason: 'job stalled more than allowable limit',
      }),
    ])
  })

  it('an unknown queue is exit 1, naming the queues there are', async () => {
    await bull.run('emails', [{ name: 'welcome' }])
    const result = await queue(['inspect', 'emails-typo'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('No queue "emails-typo"')
    expect(result.stderr).toMatch(/hint: The queues there: emails\./)
    // and looking never creates it
    expect((await json(['list'])).data.queues.map((q: { name: string }) => q.name)).toEqual([
      'emails',
    ])
  })
})

describe('queue retry', () => {
  it('named jobs: each one retried or said why not; a missing one makes it exit 1', async () => {
    const [failed, done] = await bull.run('emails', [
      { name: 'welcome', fail: 'boom' },
      { name: 'welcome' },
    ])
    const { code, data } = await json([
      'retry',
      'emails',
      String(failed?.id),
      String(done?.id),
      'nope',
    ])
    expect(code).toBe(1)
    expect(data).toMatchObject({
      mode: 'ids',
      matched: 1,
      outcomes: { retried: 1, 'not-in-state': 1, missing: 1 },
    })
    expect(data.jobs).toEqual([
      { id: String(done?.id), name: 'welcome', outcome: 'not-in-state', error: null },
      { id: 'nope', name: null, outcome: 'missing', error: null },
      { id: String(failed?.id), name: 'welcome', outcome: 'retried', error: null },
    ])
    expect(await counts('emails')).toMatchObject({ waiting: 1, failed: 0, completed: 1 })
  })

  it('a job id that does not exist: says so in one line with a hint, exit 1, nothing changed', async () => {
    await bull.run('emails', bull.failing('welcome', 1))
    const missing = await queue(['retry', 'emails', 'no-such-id'])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toContain('No job no-such-id in emails on redis://')
    expect(missing.stdout).toContain('`backendkit queue inspect emails --state failed`')
    expect(await counts('emails')).toMatchObject({ failed: 1, waiting: 0 })
  })

  it('--all --limit 2 of 8 failed retries exactly 2, the oldest', async () => {
    const jobs = await bull.run('emails', bull.failing('welcome', 8))
    const { code, data } = await json(['retry', 'emails', '--all', '--limit', '2'])
    expect(code).toBe(0)
    expect(data).toMatchObject({ mode: 'filtered', matched: 2, outcomes: { retried: 2 } })
    expect(data.jobs.map((j: { id: string }) => j.id)).toEqual(jobs.slice(0, 2).map((j) => j.id))
    expect(await counts('emails')).toMatchObject({ waiting: 2, failed: 6 })
    // On a terminal, progress on stderr; stdout keeps the result.
    const shown = await queue(['retry', 'emails', '--all', '--limit', '1'], { tty: true })
    expect(shown.stderr).toMatch(/Retrying emails… 1 retried, \d+ of 6 looked at/)
    expect(shown.stdout).toMatch(/1 retried\.$/m)
  })

  it('filters by --name and --reason; --dry-run lists them and changes nothing', async () => {
    await bull.run('emails', [
      ...bull.failing('welcome', 3, 'connect ETIMEDOUT 10.0.0.1:25'),
      ...bull.failing('welcome', 2, 'SMTP 550 mailbox unavailable'),
      ...bull.failing('digest', 2, 'connect ETIMEDOUT 10.0.0.1:25'),
    ])
    const args = [
      'retry',
      'emails',
      '--all',
      '--name',
      'welcome',
      '--reason',
      'ETIMEDOUT|ECONNRESET',
    ]
    const dry = await json([...args, '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.data).toMatchObject({
      dryRun: true,
      scanned: 7,
      matched: 3,
      outcomes: { selected: 3 },
    })
    expect(await counts('emails')).toMatchObject({ waiting: 0, failed: 7 })
    const text = await queue([...args, '--dry-run'])
    expect(text.stdout).toContain('Dry run: 3 jobs would be retried (of 7 jobs looked at)')
    const real = await json(args)
    expect(real.data).toMatchObject({ dryRun: false, matched: 3, outcomes: { retried: 3 } })
    expect(await counts('emails')).toMatchObject({ waiting: 3, failed: 4 })
  })

  it('--since and --until bound when the jobs failed', async () => {
    await bull.run('emails', bull.failing('old', 2))
    await new Promise((resolve) => setTimeout(resolve, 50))
    const between = new Date().toISOString()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await bull.run('emails', bull.failing('new', 3))
    const recent = await json(['retry', 'emails', '--all', '--since', between, '--dry-run'])
    expect(recent.data.matched).toBe(3)
    const older = await json(['retry', 'emails', '--all', '--until', between, '--dry-run'])
    expect(older.data.matched).toBe(2)
    expect(older.data.jobs.map((j: { name: string }) => j.name)).toEqual(['old', 'old'])
  })

  it('--all without filters uses BullMQ bulk retry and counts what it moved; nothing left is exit 1', async () => {
    await bull.run('emails', [...bull.failing('welcome', 5), { name: 'welcome' }])
    const { code, data } = await json(['retry', 'emails', '--all'])
    expect(code).toBe(0)
    expect(data).toMatchObject({ mode: 'bulk', matched: 5, outcomes: { retried: 5 } })
    expect(await counts('emails')).toMatchObject({ waiting: 5, failed: 0, completed: 1 })
    const again = await json(['retry', 'emails', '--all'])
    expect(again.code).toBe(1)
    expect(again.data.matched).toBe(0)
    const completed = await json(['retry', 'emails', '--all', '--state', 'completed'])
    expect(completed.data).toMatchObject({ state: 'completed', outcomes: { retried: 1 } })
  })

  it.each([
    [['retry', 'emails', '1', '--all'], /not both/],
    [['retry', 'emails'], /Nothing to retry/],
    [['retry', 'emails', '1', '--name', 'x'], /--name filters --all/],
    [['retry', 'emails', '--all', '--state', 'waiting'], /Only failed or completed/],
    [['retry', 'emails', '--all', '--reason', '(unclosed'], /Expected a regular expression/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    await bull.run('emails', [{ name: 'welcome' }])
    const result = await queue(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
  })
})

describe('destructive commands', () => {
  it.each([
    [['remove', 'emails', '1']],
    [['clean', 'emails', '--older-than', '1ms']],
    [['drain', 'emails']],
    [['obliterate', 'emails']],
  ])('%j without a terminal and without --yes exits 2 and changes nothing', async (args) => {
    await bull.run('emails', [{ name: 'welcome' }, { name: 'welcome', fail: 'x' }])
    await bull.queue('emails').add('waiting', {})
    const before = await counts('emails')
    const result = await queue(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Refusing to .* without confirmation/)
    expect(result.stderr).toMatch(/hint: Pass --yes/)
    expect(await counts('emails')).toEqual(before)
  })

  it('remove asks on a terminal, saying how many; "no" changes nothing; "yes" removes', async () => {
    const [a, b] = await bull.run('emails', [{ name: 'welcome' }, { name: 'welcome', fail: 'x' }])
    const no = await queue(['remove', 'emails', String(a?.id), String(b?.id)], {
      tty: true,
      answers: [false],
    })
    expect(no.code).toBe(1)
    expect(no.prompts).toEqual([expect.stringMatching(/^Remove 2 jobs from emails on /)])
    expect(await counts('emails')).toMatchObject({ completed: 1, failed: 1 })
    const yes = await queue(['remove', 'emails', String(a?.id), 'ghost'], {
      tty: true,
      answers: [true],
    })
    expect(yes.code).toBe(1) // ghost is missing, the rest went
    expect(await counts('emails')).toMatchObject({ completed: 0, failed: 1 })
    const dry = await json(['remove', 'emails', String(b?.id), '--dry-run'])
    expect(dry.data).toMatchObject({ dryRun: true, outcomes: { selected: 1 } })
    expect(await counts('emails')).toMatchObject({ failed: 1 })
  })

  it('clean removes the jobs of a state older than --older-than, at most --limit', async () => {
    await bull.run('emails', [
      { name: 'a' },
      { name: 'b' },
      { name: 'c' },
      { name: 'd', fail: 'x' },
    ])
    const none = await json(['clean', 'emails', '--older-than', '1h', '--yes'])
    expect(none.code).toBe(1) // nothing that old
    await new Promise((resolve) => setTimeout(resolve, 20))
    const dry = await json(['clean', 'emails', '--older-than', '10ms', '--dry-run'])
    expect(dry.data).toMatchObject({ state: 'completed', matched: 3, outcomes: { selected: 3 } })
    const two = await json(['clean', 'emails', '--older-than', '10ms', '--limit', '2', '--yes'])
    expect(two.data).toMatchObject({ outcomes: { removed: 2 } })
    expect(await counts('emails')).toMatchObject({ completed: 1, failed: 1 })
    const required = await queue(['clean', 'emails', '--yes'])
    expect(required.code).toBe(2)
    expect(required.stderr).toContain('--older-than')
    const waiting = await bull.queue('emails').add('queued', {})
    await new Promise((resolve) => setTimeout(resolve, 20))
    const pending = await json([
      'clean',
      'emails',
      '--state',
      'waiting',
      '--older-than',
      '10ms',
      '--yes',
    ])
    expect(pending.data.jobs).toEqual([
      { id: String(waiting.id), name: 'queued', outcome: 'removed', error: null },
    ])
  })

  it('drain removes waiting jobs, delayed ones only with --delayed', async () => {
    const q = bull.queue('emails')
    await q.add('a', {})
    await q.add('b', {})
    await q.add('later', {}, { delay: 3_600_000 })
    const dry = await json(['drain', 'emails', '--dry-run'])
    expect(dry.data).toEqual({
      prefix: bull.prefix,
      queue: 'emails',
      dryRun: true,
      delayed: false,
      matched: 2,
      removed: 0,
    })
    const drained = await json(['drain', 'emails', '--yes'])
    expect(drained.data).toMatchObject({ matched: 2, removed: 2 })
    expect(await counts('emails')).toMatchObject({ waiting: 0, delayed: 1 })
    expect((await json(['drain', 'emails', '--delayed', '--yes'])).data.removed).toBe(1)
    expect((await json(['drain', 'emails', '--yes'])).code).toBe(1) // nothing left
  })

  it('obliterate removes the queue and every key; refuses while a job runs unless --force', async () => {
    await bull.run('emails', [{ name: 'a' }, { name: 'b', fail: 'x' }])
    const running = bull.queue('emails')
    await running.add('slow', {})
    let release: () => void = () => {}
    const worker = new Worker('emails', () => new Promise<void>((resolve) => (release = resolve)), {
      connection: bull.redis.duplicate(),
      prefix: bull.prefix,
    })
    try {
      for (let i = 0; i < 100 && (await counts('emails')).active === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const refused = await queue(['obliterate', 'emails', '--yes'])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain('has jobs running')
      expect(refused.stderr).toMatch(/hint: .*--force/)
      const forced = await json(['obliterate', 'emails', '--yes', '--force'])
      expect(forced.data).toMatchObject({ obliterated: true, keys: expect.any(Number) })
    } finally {
      release()
      await worker.close(true)
      ;(worker.opts.connection as Redis).disconnect()
    }
    const left = await bull.redis.keys(`${bull.prefix}:emails:*`)
    expect(left.filter((key) => !key.endsWith(':events'))).toEqual([])
    expect((await json(['list'])).data.queues).toEqual([])
  })
})

describe('pause, resume, promote', () => {
  it('pause and resume say whether anything changed', async () => {
    await bull.run('emails', [{ name: 'a' }])
    expect((await json(['pause', 'emails'])).data).toEqual({
      prefix: bull.prefix,
      queue: 'emails',
      paused: true,
      changed: true,
    })
    expect(await bull.queue('emails').isPaused()).toBe(true)
    expect((await json(['pause', 'emails'])).data.changed).toBe(false)
    expect((await json(['resume', 'emails'])).data).toMatchObject({ paused: false, changed: true })
    expect(await bull.queue('emails').isPaused()).toBe(false)
  })

  it('promote runs delayed jobs now: named, filtered by name, or all', async () => {
    const q = bull.queue('emails')
    const a = await q.add('digest', {}, { delay: 3_600_000 })
    await q.add('digest', {}, { delay: 3_600_000 })
    await q.add('reminder', {}, { delay: 3_600_000 })
    const named = await json(['promote', 'emails', String(a.id), 'ghost'])
    expect(named.code).toBe(1)
    expect(named.data.outcomes).toEqual({ promoted: 1, missing: 1 })
    expect(await counts('emails')).toMatchObject({ waiting: 1, delayed: 2 })
    const dry = await json(['promote', 'emails', '--all', '--name', 'reminder', '--dry-run'])
    expect(dry.data).toMatchObject({ matched: 1, outcomes: { selected: 1 } })
    expect((await json(['promote', 'emails', '--all'])).data.outcomes).toEqual({ promoted: 2 })
    expect(await counts('emails')).toMatchObject({ waiting: 3, delayed: 0 })
  })
})
