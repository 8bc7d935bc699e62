import { CONNECTIONS, compareTargets, DURATION_S, line, ROUNDS, ratio } from '../http.js'
import { postJson, servedVariants, signUp } from '../service.js'

export const description = `GET /api/posts, complete service vs the same without flags and maintenance, ${CONNECTIONS} connections, medians of ${ROUNDS} alternating ${DURATION_S} s runs`

export async function run() {
  const served = await servedVariants('flags_http', {
    with: [],
    without: ['--without', 'flags,maintenance'],
  })
  try {
    const a = await served.start('with')
    const b = await served.start('without')
    const user = await signUp(a.base, 'bench')
    for (let i = 0; i < 20; i++) {
      await postJson(
        `${a.base}/api/users/${user.id}/posts`,
        { title: `Post ${i}`, body: 'body' },
        user.headers,
      )
    }
    const r = await compareTargets({
      without: { server: b, url: `${b.base}/api/posts` },
      with: { server: a, url: `${a.base}/api/posts` },
    })
    return {
      withoutFlagsAndMaintenance: r.without,
      withFlagsAndMaintenance: { ...r.with, ratio: ratio(r.with.reqPerSec, r.without.reqPerSec) },
      cpuRatio: ratio(r.without.cpuMicrosPerRequest, r.with.cpuMicrosPerRequest),
      target: '>= 0.97x',
    }
  } finally {
    await served.cleanup()
  }
}

export function summary(r) {
  return [
    line('GET /api/posts without', r.withoutFlagsAndMaintenance),
    `${line('GET /api/posts with', r.withFlagsAndMaintenance)}   ${r.withFlagsAndMaintenance.ratio}x (by CPU per request ${r.cpuRatio}x)`,
  ].join('\n')
}
