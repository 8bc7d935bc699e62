import { defineRecipe } from '../../src/scaffold/recipe.js'

export const jobs = defineRecipe({
  name: 'jobs',
  summary: 'cron schedules as BullMQ job schedulers (once per tick), pausable; withRetry',
  requires: ['queues'],
  dependencies: ['cron-parser'],
  module: { from: './jobs/module.js', name: 'jobs' },
  env: [
    {
      name: 'CRON_TIMEZONE',
      example: 'UTC',
      description: 'IANA time zone of the cron patterns, e.g. Europe/Paris',
    },
  ],
  adds: ['src/jobs/', 'withRetry', 'nightly purges', '`backendkit cron` schedules'],
})
