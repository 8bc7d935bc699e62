import { defineRecipe } from '../../src/scaffold/recipe.js'

export const core = defineRecipe({
  name: 'core',
  summary:
    'Express 5 app: ordered middleware, config, errors, validation, health, graceful shutdown',
  title: 'The app: middleware chain, configuration, errors, validation, health, shutdown',
  templateDir: 'templates/base',
  dependencies: ['express', 'pino', 'pino-http', 'helmet', 'cors', 'zod'],
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
    test: 'vitest run',
    typecheck: 'tsc -p tsconfig.test.json',
    lint: 'biome check .',
  },
  env: [
    { name: 'NODE_ENV', example: 'development', description: 'development | test | production' },
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
  ],
  adds: ['src/app.ts', 'src/server.ts', 'src/config.ts', '/health/live', '/health/ready'],
  readme: `The Express 5 app is built in \`src/app.ts\`, with the middleware chain in a deliberate,
commented order: request id → pino-http logging (one line per request with its id, no headers;
credentials redacted from every log line) →
helmet → CORS (allowlist from \`CORS_ORIGINS\`) → health routes → module middleware that refuses
cheaply → JSON body parsing (\`BODY_LIMIT\`; anything but JSON is a 415) → module middleware on
parsed requests → routes → JSON 404 → the error handler, last.

- **Configuration** (\`src/config.ts\`): the environment is parsed by zod at start, together with
  every module's own variables; a missing or malformed value stops the process with a message
  naming each bad variable.
- **Errors** (\`src/lib/errors.ts\`, \`src/middleware/error-handler.ts\`): throw an \`AppError\`
  (\`NotFoundError\`, \`ConflictError\`, \`ValidationError\`, …) and the handler answers with its
  status and \`{error: {message, code, details?}}\`. Anything else is logged with the request id
  and answered with a bare 500 — no stack, no SQL. Malformed JSON is a 400, a body over the limit
  a 413, a non-JSON body a 415, and a dependency that cannot be reached (database down) a 503 with
  \`Retry-After\`.
- **Validation** (\`src/middleware/validate.ts\`): \`validate({ body, query, params })\` with zod
  schemas; invalid input is a 422 listing every problem.
- **Health** (\`src/health/\`): \`GET /health/live\` does no I/O; \`GET /health/ready\` runs every
  module's readiness check with a time limit and answers 200 or 503 with each check's status.
- **Graceful shutdown** (\`src/lib/shutdown.ts\`): on SIGTERM/SIGINT \`/health/ready\` answers 503
  at once while the server keeps serving for \`SHUTDOWN_DELAY_MS\` (5000 in production, 0 otherwise),
  so the load balancer stops sending first; every response in that time carries
  \`Connection: close\`, so keep-alive clients leave between two requests instead of being cut.
  Then the port closes, idle sockets close (never one where a request has begun or a response is
  owed), requests in flight finish, modules stop (pools, connections, workers) and the process
  exits 0. Past \`SHUTDOWN_TIMEOUT_MS\` (counted from the signal) or on a second signal it exits 1.
  An unhandled rejection or uncaught exception is logged as fatal and takes the same path, exiting
  1; a port already in use stops the start with a message saying so.
- **Modules** (\`src/module.ts\`, \`src/modules.ts\`): each pattern is a module that brings its
  environment schema, middleware (with a stage), routes, readiness checks and a stop hook.
  \`src/modules.ts\` lists the installed ones; backendkit writes it, so add patterns with
  \`backendkit add <recipe>\` rather than by editing it.`,
})
