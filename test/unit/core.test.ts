import { describe, expect, it } from 'vitest'
import { migrationSlug, timestamp } from '../../src/commands/migrate/make.js'
import { parseDuration } from '../../src/core/duration.js'
import { colorStyle, plainStyle, table, useColor } from '../../src/core/output.js'
import { redact } from '../../src/core/redact.js'
import { parseConnectionUrl, postgresService, redisService } from '../../src/core/urls.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['60', 60_000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
  ])('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms))
  it.each(['', 'soon', '-1s', '0', '5 parsecs'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/duration/)
  })
})

describe('useColor', () => {
  const tty = { write: () => true, isTTY: true }
  const pipe = { write: () => true, isTTY: false }
  it.each([
    [tty, {}, undefined, true],
    [pipe, {}, undefined, false],
    [tty, { NO_COLOR: '1' }, undefined, false],
    [tty, {}, false, false],
    [pipe, { FORCE_COLOR: '1' }, undefined, true],
    [tty, { TERM: 'dumb' }, undefined, false],
  ])('stream %j env %j flag %j → %j', (stream, env, flag, expected) => {
    expect(useColor(stream, env, flag)).toBe(expected)
  })
})

describe('table', () => {
  it('aligns columns by visible width, ignoring colour codes, with no trailing spaces', () => {
    const out = table(
      ['NAME', 'STATUS'],
      [
        [colorStyle.green('a'), 'ok'],
        ['longer-name', 'pending'],
      ],
      plainStyle,
    )
    expect(out.split('\n')).toEqual([
      'NAME         STATUS',
      '\x1b[32ma\x1b[39m            ok',
      'longer-name  pending',
    ])
  })
})

describe('redaction', () => {
  it.each([
    ['postgres://app:hunter2@db:5432/x', 'postgres://app:***@db:5432/x'],
    ['redis://:s3cr3t@cache:6379/0', 'redis://:***@cache:6379/0'],
    [
      'failed for amqp://guest:guest@mq:5672 and more',
      'failed for amqp://guest:***@mq:5672 and more',
    ],
    ['postgres://nopass@db/x', 'postgres://nopass@db/x'],
    ['postgres://u@db/x?password=hunter2', 'postgres://u@db/x?password=***'],
    [
      'postgres://u@db/x?sslmode=require&sslpassword=k3y&application_name=api',
      'postgres://u@db/x?sslmode=require&sslpassword=***&application_name=api',
    ],
    ['postgresql://db/x?user=u&PassWord=a%26b', 'postgresql://db/x?user=u&PassWord=***'],
    ['rediss://default:pw@cache:6380/0', 'rediss://default:***@cache:6380/0'],
    ['redis://:p@ss@cache:6379', 'redis://:***@cache:6379'],
    ['"url": "redis://:abc@h?token=xyz"', '"url": "redis://:***@h?token=***"'],
    // data that merely mentions a key, outside any URL, is left alone
    ['password=kept and ?token=kept', 'password=kept and ?token=kept'],
  ])('%s → %s', (input, expected) => expect(redact(input)).toBe(expected))

  it('also hides a registered password wherever it appears later (decoded too)', () => {
    parseConnectionUrl('postgres://u:p%40ssw0rd!@127.0.0.1/db', postgresService)
    expect(redact('auth failed: p@ssw0rd! rejected')).toBe('auth failed: *** rejected')
  })

  it('hides query-string credentials of a parsed URL wherever they appear later', () => {
    parseConnectionUrl('postgres://db/x?password=Qu%22ry&sslpassword=pem-pass', postgresService)
    expect(redact('server said: wrong password Qu"ry')).toBe('server said: wrong password ***')
    expect(redact(JSON.stringify({ detail: 'Qu"ry pem-pass' }))).toBe('{"detail":"*** ***"}')
  })
})

describe('parseConnectionUrl', () => {
  it('gives host:port (default port filled in) and a display form without the password', () => {
    const parsed = parseConnectionUrl('redis://:pw@cache.internal/2', redisService)
    expect(parsed.address).toBe('cache.internal:6379')
    expect(parsed.display).toBe('redis://:***@cache.internal/2')
  })
  it.each(['localhost:5432', 'http://x/y', 'postgres://', '%%%'])(
    'rejects %j as a usage error',
    (raw) => {
      expect(() => parseConnectionUrl(raw, postgresService)).toThrow(
        expect.objectContaining({ exitCode: 2 }),
      )
    },
  )
})

describe('migration names', () => {
  it.each([
    ['Add users email index', 'add_users_email_index'],
    ['addUsersEmail', 'add_users_email'],
    ['  create-posts ', 'create_posts'],
    ['!!!', ''],
  ])('%j → %j', (input, slug) => expect(migrationSlug(input)).toBe(slug))
  it('timestamps in UTC as 14 sortable digits', () => {
    expect(timestamp(new Date('2026-11-25T14:52:17.123Z'))).toBe('20261125145217')
  })
})
