import { defineRecipe } from '../../src/scaffold/recipe.js'

export const core = defineRecipe({
  name: 'core',
  summary:
    'Express 5 app: ordered middleware, config, errors, validation, health, graceful shutdown',
  templateDir: 'templates/base',
  dependencies: ['express', 'pino', 'helmet', 'cors', 'zod'],
  devDependencies: [
    'typescript',
    'tsx',
    'vitest',
    '@types/node',
    '@types/express',
    '@types/cors',
    '@biomejs/biome',
  ],
  scripts: {
    dev: 'tsx watch --env-file-if-exists=.env src/server.ts',
    build: 'tsc -p tsconfig.json',
    start: 'node --env-file-if-exists=.env dist/server.js',
    worker: 'node --env-file-if-exists=.env dist/worker.js',
    'dev:worker': 'tsx watch --env-file-if-exists=.env src/worker.ts',
    test: 'vitest run',
    typecheck: 'tsc -p tsconfig.test.json',
    lint: 'biome check .',
  },
  env: [
    {
      name: 'NODE_ENV',
      example: 'development',
      production: 'production',
      description: 'development | test | production',
    },
    { name: 'HOST', example: '0.0.0.0', description: 'Interface the HTTP server listens on' },
    { name: 'PORT', example: '3000', description: 'Port the HTTP server listens on' },
    {
      name: 'LOG_LEVEL',
      example: 'info',
      description: 'fatal | error | warn | info | debug | trace | silent',
    },
    {
      name: 'CORS_ORIGINS',
      example: '',
      description: 'Comma-separated origins allowed to call the API from a browser (empty: none)',
    },
    { name: 'BODY_LIMIT', example: '100kb', description: 'Largest JSON request body accepted' },
    {
      name: 'TRUST_PROXY',
      example: '0',
      description: 'Reverse proxies in front of the app, for the client IP (0: none)',
    },
    {
      name: 'SHUTDOWN_TIMEOUT_MS',
      example: '10000',
      description: 'How long a graceful shutdown may take before the process is forced out',
    },
    {
      name: 'SHUTDOWN_DELAY_MS',
      example: '',
      description:
        'Serve on this long after SIGTERM, readiness 503, so load balancers stop sending (empty: 5000 in production, else 0)',
    },
    {
      name: 'READINESS_TIMEOUT_MS',
      example: '2000',
      description: 'How long each /health/ready check may take',
    },
    {
      name: 'WORKER_HEALTH_PORT',
      example: '',
      description:
        "Port of the worker process's /health/live and /health/ready (empty: 3001, none under NODE_ENV=test; 0: none)",
    },
  ],
  adds: ['src/app.ts', 'src/server.ts', 'src/config.ts', '/health/live', '/health/ready'],
})
