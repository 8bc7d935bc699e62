import { writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  bareExpressServer,
  CONNECTIONS,
  compareTargets,
  DURATION_S,
  line,
  ROUNDS,
  ratio,
} from '../http.js'
import { postJson, servedVariants, signUp } from '../service.js'

export const description = `complete service API vs bare Express 5, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs`

export async function run() {
  const served = await servedVariants('api', { complete: [] })
  try {
    writeFileSync(path.join(served.root('complete'), 'bench-bare.mjs'), bareExpressServer)
    const bare = await served.start('complete', {}, 'bench-bare.mjs')
    const api = await served.start('complete')
    const uncached = await served.start('complete', { CACHE_ENABLED: 'false' })
    const user = await signUp(api.base, 'bench')
    const auth = user.headers
    const post = await postJson(
      `${api.base}/api/users/${user.id}/posts`,
      { title: 'Bench', body: 'body' },
      auth,
    )
    const r = await compareTargets({
      bare: { server: bare, url: `${bare.base}/json` },
      post: { server: api, url: `${api.base}/api/posts/${post.id}` },
      user: { server: api, url: `${api.base}/api/users/${user.id}`, headers: auth },
      userFromDb: { server: uncached, url: `${uncached.base}/api/users/${user.id}`, headers: auth },
    })
    const vsBare = (x) => ({ ...x, ratio: ratio(x.reqPerSec, r.bare.reqPerSec) })
    return {
      bare: r.bare,
      postByIdCached: vsBare(r.post),
      userByIdCached: vsBare(r.user),
      userByIdFromPostgres: vsBare(r.userFromDb),
      targets: { postByIdCached: '>= 0.40x', userByIdFromPostgres: '>= 0.25x, p99 < 50 ms' },
    }
  } finally {
    await served.cleanup()
  }
}

export function summary(r) {
  return [
    line('bare Express 5 JSON', r.bare),
    `${line('GET /api/posts/:id (cached)', r.postByIdCached)}   ${r.postByIdCached.ratio}x`,
    `${line('GET /api/users/:id (cached)', r.userByIdCached)}   ${r.userByIdCached.ratio}x`,
    `${line('GET /api/users/:id (pg)', r.userByIdFromPostgres)}   ${r.userByIdFromPostgres.ratio}x`,
  ].join('\n')
}
