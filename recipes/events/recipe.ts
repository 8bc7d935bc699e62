import { defineRecipe } from '../../src/scaffold/recipe.js'

export const events = defineRecipe({
  name: 'events',
  summary:
    'event-sourced account ledger: append-only log, optimistic concurrency, snapshots, a rebuildable read model',
  requires: ['database', 'auth'],
  module: { from: './event-store/module.js', name: 'events' },
  scripts: { 'projections:rebuild': 'tsx --env-file-if-exists=.env src/event-store/rebuild.ts' },
  env: [
    {
      name: 'LEDGER_SNAPSHOT_EVERY',
      example: '100',
      description:
        'An account is snapshotted every this many events (state = snapshot + the events after it)',
    },
    {
      name: 'PROJECTION_POLL_MS',
      example: '1000',
      description: 'How often the read model catches up with the event log without being told to',
    },
  ],
  adds: [
    '/api/accounts',
    'event store (append-only, unique stream + version)',
    'snapshots',
    'balances read model + checkpoint',
    'projections:rebuild',
  ],
})
