// The generated service's whole middleware chain on a JSON route vs a bare Express 5 JSON
// route, same machine, same run.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  bareExpressServer,
  builtProject,
  CONNECTIONS,
  compareTargets,
  DURATION_S,
  line,
  ROUNDS,
  ratio,
  startServer,
} from '../http.js'

// The generated app as server.ts builds it (real config, logger at info, every core
// middleware), plus one module whose route answers the same JSON as the bare server.
const generatedServer = `
import { Router } from 'express'
import { z } from 'zod'
import { createApp } from './dist/app.js'
import { loadConfig } from './dist/config.js'
import { loadConventions } from './dist/conventions.js'
import { createLogger } from './dist/lib/logger.js'
import { defineModule } from './dist/module.js'
const bench = defineModule({
  name: 'bench',
  env: z.object({}),
  init() {
    const router = Router()
    router.get('/json', (_req, res) => { res.json({ hello: 'world' }) })
    return { routes: [{ path: '/', router }] }
  },
})
const modules = [bench]
const config = loadConfig({ ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info' }, modules)
const app = await createApp({ config, conventions: loadConventions(), logger: createLogger(config.core), modules })
const server = app.express.listen(0, '127.0.0.1', () => process.send(server.address().port))
process.on('message', () => process.send(process.cpuUsage()))
`

export const description = `generated core service vs bare Express 5, GET JSON, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs`

export async function run() {
  const { root, cleanup } = builtProject(['--recipes', 'core'])
  const servers = []
  try {
    writeFileSync(path.join(root, 'bench-bare.mjs'), bareExpressServer)
    writeFileSync(path.join(root, 'bench-generated.mjs'), generatedServer)
    const bare = await startServer(root, 'bench-bare.mjs')
    const generated = await startServer(root, 'bench-generated.mjs')
    servers.push(bare, generated)
    const r = await compareTargets({
      bare: { server: bare, url: `${bare.base}/json` },
      generated: { server: generated, url: `${generated.base}/json` },
    })
    return {
      bare: r.bare,
      generated: r.generated,
      ratio: ratio(r.generated.reqPerSec, r.bare.reqPerSec),
      cpuRatio: ratio(r.bare.cpuMicrosPerRequest, r.generated.cpuMicrosPerRequest),
      target: '>= 0.6x',
    }
  } finally {
    for (const server of servers) server.child.kill()
    cleanup()
  }
}

export function summary(r) {
  return [
    line('bare Express 5', r.bare),
    line('generated service', r.generated),
    `ratio ${r.ratio}x req/s, ${r.cpuRatio}x by CPU per request (target ${r.target})`,
  ].join('\n')
}
