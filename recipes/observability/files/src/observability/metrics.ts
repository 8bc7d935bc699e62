import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { GaugeSource } from '../module.js'

/** The buckets of the request histogram, in seconds: from 5 ms to 10 s. */
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The metrics of one process, in a registry of its own (never prom-client's global one, so two
 * apps in one process, as in tests, do not collide): Node's defaults, HTTP requests, and every
 * module's gauges, each one metric with labels, so the exposition has one HELP per name.
 */
export class Metrics {
  readonly registry = new Registry()
  readonly requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status code, and how long they took',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets,
    registers: [this.registry],
  })
  readonly requestsInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being served right now',
    registers: [this.registry],
  })
  private readonly sources = new Set<string>()

  constructor(private readonly gauges: () => readonly GaugeSource[]) {
    collectDefaultMetrics({ register: this.registry })
  }

  /** The exposition (text format 0.0.4), collecting every module's gauges now. */
  async scrape(): Promise<string> {
    for (const source of this.gauges()) this.register(source)
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** A module's gauge as a prom-client gauge collected at scrape time, registered once. */
  private register(source: GaugeSource): void {
    if (this.sources.has(source.name)) return
    this.sources.add(source.name)
    new Gauge({
      name: source.name,
      help: source.help,
      labelNames: [...(source.labelNames ?? [])],
      registers: [this.registry],
      async collect() {
        const values = await source.collect()
        this.reset()
        for (const { labels, value } of values) {
          if (labels) this.set(labels, value)
          else this.set(value)
        }
      },
    })
  }
}
