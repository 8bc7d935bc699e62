import { describe, expect, it } from 'vitest'
import { FlagSet, flagNameProblem } from '../../recipes/flags/files/src/flags/evaluate.js'
import {
  applyChange,
  describeFieldChange,
  diffSettings,
  type FlagSettings,
  NEW_FLAG,
} from '../../src/flags/change.js'

const on: FlagSettings = { ...NEW_FLAG, enabled: true }

describe('flags set: the change', () => {
  it.each([
    ['a new flag gets the defaults for the rest', null, { enabled: true }, on],
    ['only what is given changes', on, { percentage: 25 }, { ...on, percentage: 25 }],
    [
      'a list is replaced, without repeats',
      on,
      { allow: ['a', 'b', 'a'] },
      { ...on, allow: ['a', 'b'] },
    ],
    ['an empty list clears it', { ...on, deny: ['x'] }, { deny: [] }, on],
  ])('%s', (_label, before, change, after) => {
    expect(applyChange(before, change)).toEqual(after)
  })

  it.each([
    [on, { ...on, percentage: 10 }, ['percentage 100 → 10']],
    [
      on,
      { ...on, enabled: false, deny: ['u1', 'u2'] },
      ['enabled true → false', 'deny (none) → u1,u2'],
    ],
    [on, on, []],
    [
      null,
      { ...on, description: 'Search v2' },
      ['enabled true', 'percentage 100', 'allow (none)', 'deny (none)', 'description "Search v2"'],
    ],
  ])('%j → %j shows as %j', (before, after, described) => {
    expect(diffSettings(before, after).map(describeFieldChange)).toEqual(described)
  })
})

describe('flag names (shared with the service, whose table checks the same rule)', () => {
  it.each(['new-checkout', 'search.v2', 'a', 'x_1', 'a'.repeat(64)])('%s is valid', (name) => {
    expect(flagNameProblem(name)).toBeUndefined()
  })
  it.each(['', 'New-Checkout', 'new checkout', '-new', 'new-', 'a/b', 'a'.repeat(65)])(
    '%j is not',
    (name) => {
      expect(flagNameProblem(name)).toMatch(/not a valid flag name/)
    },
  )
})

describe('the evaluation `flags eval` runs (the service file itself)', () => {
  it('10,000 users at 25 % → 25 % ± 1.5 %', () => {
    const set = new FlagSet([
      { name: 'rollout', enabled: true, percentage: 25, allow: [], deny: [] },
    ])
    let enabled = 0
    for (let i = 0; i < 10_000; i++) if (set.isEnabled('rollout', String(i))) enabled++
    expect(Math.abs(enabled / 10_000 - 0.25)).toBeLessThanOrEqual(0.015)
  })
})
