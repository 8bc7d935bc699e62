import { spawnSync } from 'node:child_process'
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, runBin } from '../support/cli.js'

/**
 * The complete service's GET /openapi.json, as a client gets it, passes Redocly's lint with its
 * `recommended` rules and no error. The app is created (not connected: nothing is reached at
 * start) and asked for the document over HTTP.
 */

const dump = `
import { writeFileSync } from 'node:fs'
import { createApp } from './src/app.js'
import { loadConfig } from './src/config.js'
import { loadConventions } from './src/conventions.js'
import { createLogger } from './src/lib/logger.js'
import { modules } from './src/modules.js'
const env = {
  ...process.env,
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none',
  REDIS_URL: 'redis://127.0.0.1:9',
  AMQP_URL: 'amqp://127.0.0.1:9',
  REDIS_COMMAND_TIMEOUT_MS: '100',
  JWT_SECRET: 'a-secret-that-is-long-enough-for-the-check-0123',
}
const config = loadConfig(env, modules)
const logger = createLogger(config.core)
const app = await createApp({ config, conventions: loadConventions(), logger, modules })
const server = app.express.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const res = await fetch(\`http://127.0.0.1:\${server.address().port}/openapi.json\`)
writeFileSync(process.argv[2], await res.text())
server.close()
await app.stop()
process.exit(0)
`

describe('the OpenAPI document of the complete service', () => {
  it("passes Redocly's recommended rules with no error", { timeout: 120_000 }, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-openapi-'))
    const made = await runBin(['new', 'svc', '--no-install', '--no-git'], { cwd })
    expect(made.code, made.stderr).toBe(0)
    const root = path.join(cwd, 'svc')
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir')
    writeFileSync(path.join(root, 'dump-openapi.ts'), dump)
    const document = path.join(cwd, 'openapi.json')
    const dumped = spawnSync(process.execPath, ['--import', 'tsx', 'dump-openapi.ts', document], {
      cwd: root,
      encoding: 'utf8',
    })
    expect(dumped.status, dumped.stderr).toBe(0)
    const lint = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/@redocly/cli/bin/cli.js'),
        'lint',
        '--extends',
        'recommended',
        '--format',
        'summary',
        document,
      ],
      { cwd, encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' } },
    )
    const output = `${lint.stdout}\n${lint.stderr}`
    expect(lint.status, output).toBe(0)
    expect(output).not.toMatch(/^error/m)
  })
})
