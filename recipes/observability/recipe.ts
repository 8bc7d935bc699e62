import { defineRecipe } from '../../src/scaffold/recipe.js'

export const observability = defineRecipe({
  name: 'observability',
  summary: 'Prometheus /metrics: HTTP latency by route template, in-flight, pools, queues, Node',
  requires: ['core'],
  dependencies: ['prom-client'],
  module: { from: './observability/module.js', name: 'observability' },
  env: [
    {
      name: 'METRICS_PORT',
      example: '',
      description:
        'Port of the metrics endpoint, apart from the API (default 9464 for the server, 9465 for the worker; 0: none)',
    },
    {
      name: 'METRICS_HOST',
      example: '0.0.0.0',
      description: 'Interface the metrics port listens on',
    },
    {
      name: 'METRICS_TOKEN',
      example: '',
      description:
        'When set (16+ characters), GET /metrics on the API port too, with Authorization: Bearer <token>; the metrics port asks for it as well',
    },
  ],
  adds: ['/metrics', 'http_request_duration_seconds', 'gauges of every module'],
})
