import { fileURLToPath } from 'node:url'
import { compareProcesses } from '../lib.js'

const bin = fileURLToPath(new URL('../../bin/backendkit.js', import.meta.url))

export const description = '`backendkit --help` cold start vs `node -e 0` (same Node, medians)'

export async function run() {
  const node = process.execPath
  const warm = compareProcesses({
    node: [node, ['-e', '0']],
    help: [node, [bin, '--help']],
    subHelp: [node, [bin, 'migrate', 'up', '--help']],
  })
  // Without the compile cache: what the very first run after install costs.
  const noCache = compareProcesses(
    {
      node: [node, ['-e', '0'], { env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' } }],
      help: [node, [bin, '--help'], { env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' } }],
    },
    { runs: 15 },
  )
  return {
    nodeMs: warm.node,
    helpMs: warm.help,
    subcommandHelpMs: warm.subHelp,
    ratio: Math.round((warm.help / warm.node) * 100) / 100,
    noCompileCache: {
      nodeMs: noCache.node,
      helpMs: noCache.help,
      ratio: Math.round((noCache.help / noCache.node) * 100) / 100,
    },
    target: '<= 1.5x',
  }
}

export function summary(r) {
  return [
    `node -e 0            ${r.nodeMs} ms`,
    `backendkit --help    ${r.helpMs} ms   ratio ${r.ratio}x (target ${r.target})`,
    `migrate up --help    ${r.subcommandHelpMs} ms`,
    `no compile cache     ${r.noCompileCache.helpMs} ms vs ${r.noCompileCache.nodeMs} ms   ratio ${r.noCompileCache.ratio}x`,
  ].join('\n')
}
