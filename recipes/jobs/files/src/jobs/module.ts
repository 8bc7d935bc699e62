import { z } from 'zod'
import { type AppModule, type AvailableServices, defineModule, requireService } from '../module.js'
import { CRON_QUEUE, Cron, type Schedule } from './cron.js'
import { appSchedules } from './schedules.js'

declare module '../module.js' {
  interface Services {
    cron: Cron
  }
}

export const jobsEnv = z.object({
  CRON_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone })
        return true
      } catch {
        return false
      }
    }, 'must be an IANA time zone, e.g. UTC or Europe/Paris'),
})

/**
 * Scheduled jobs with the schedules `define` returns. `services.cron` everywhere (pause, resume,
 * run now); in the worker, the definitions are published, the schedulers created (or removed
 * while paused) and the `cron` queue worked, drained on shutdown.
 */
export function createJobsModule(define: (services: AvailableServices) => Schedule[]): AppModule {
  return defineModule({
    name: 'jobs',
    env: jobsEnv,
    init({ env, role, logger, services }) {
      const queues = requireService(services, 'queues', 'jobs')
      const redis = requireService(services, 'redis', 'jobs')
      const cron = new Cron(define(services), queues, redis, env.CRON_TIMEZONE, logger)
      if (role === 'server') return { services: { cron } }
      const stopped = new AbortController()
      const publishing = cron.start(stopped.signal)
      return {
        services: { cron },
        drain: [queues.work(CRON_QUEUE, cron.handlers())],
        stop: async () => {
          stopped.abort()
          await publishing
        },
      }
    },
  })
}

export const jobs = createJobsModule((services) =>
  appSchedules(requireService(services, 'db', 'jobs')),
)
