import { describe, expect, it } from 'vitest'
import type { AppliedMigration } from '../../src/migrate/engine.js'
import { checkSelection, planDown, planUp } from '../../src/migrate/plan.js'

const files = ['001_a', '002_b', '003_c', '004_d'].map((name) => ({ name, file: `/m/${name}.ts` }))
const applied = (...entries: [string, number | null][]): AppliedMigration[] =>
  entries.map(([name, batch], i) => ({
    name,
    batch,
    appliedAt: new Date(1_700_000_000_000 + i).toISOString(),
  }))

describe('planUp', () => {
  it.each([
    [{}, applied(), ['001_a', '002_b', '003_c', '004_d']],
    [{}, applied(['001_a', 1]), ['002_b', '003_c', '004_d']],
    [{ step: 2 }, applied(['001_a', 1]), ['002_b', '003_c']],
    [{ step: 10 }, applied(['001_a', 1]), ['002_b', '003_c', '004_d']],
    [{ to: '003_c' }, applied(), ['001_a', '002_b', '003_c']],
    [{ to: '001_a' }, applied(['001_a', 1]), []],
    [{}, applied(['001_a', 1], ['002_b', 1], ['003_c', 2], ['004_d', 2]), []],
  ])('%j with %j applies %j', (selection, done, expected) => {
    expect(planUp(files, done, selection)).toEqual(expected)
  })

  it('refuses a pending migration that sorts before an applied one', () => {
    expect(() => planUp(files, applied(['002_b', 1]), {})).toThrow(
      /Pending migration 001_a sorts before the applied 002_b/,
    )
  })

  it('refuses an unknown --to and an applied migration without a file', () => {
    expect(() => planUp(files, applied(), { to: 'nope' })).toThrow(/No migration named nope/)
    expect(() => planUp(files, applied(['000_gone', 1]), {})).toThrow(/000_gone has no file/)
  })
})

describe('planDown', () => {
  const state = applied(['001_a', 1], ['002_b', 1], ['003_c', 2], ['004_d', 2])
  it.each([
    [{}, state, ['004_d', '003_c']],
    [{ step: 1 }, state, ['004_d']],
    [{ step: 9 }, state, ['004_d', '003_c', '002_b', '001_a']],
    [{ to: '001_a' }, state, ['004_d', '003_c', '002_b']],
    [{ to: '004_d' }, state, []],
    [{ all: true }, state, ['004_d', '003_c', '002_b', '001_a']],
    [{}, applied(), []],
    // applied by another tool (no batch recorded): the last migration only
    [{}, applied(['001_a', null], ['002_b', null]), ['002_b']],
    // a batch followed by migrations applied elsewhere: all applied since that batch began
    [{}, applied(['001_a', 1], ['002_b', 2], ['003_c', null]), ['003_c', '002_b']],
  ])('%j on %j reverts %j', (selection, done, expected) => {
    expect(planDown(files, done, selection)).toEqual(expected)
  })

  it('refuses --to a migration that is not applied', () => {
    expect(() => planDown(files, state.slice(0, 1), { to: '003_c' })).toThrow(
      /003_c is not an applied migration/,
    )
  })
})

describe('checkSelection', () => {
  it.each([[{ step: 1, to: 'x' }], [{ all: true, step: 2 }]])('rejects %j', (selection) => {
    expect(() => checkSelection(selection)).toThrow(/cannot be combined/)
  })
})
