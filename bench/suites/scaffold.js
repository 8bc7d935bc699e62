import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { median } from '../lib.js'

const bin = fileURLToPath(new URL('../../bin/backendkit.js', import.meta.url))

export const description = '`backendkit new --yes --no-install --no-git` of the complete service'

function countFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length
}

export async function run() {
  const samples = []
  let files = 0
  for (let i = 0; i < 12; i++) {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-bench-new-'))
    const started = process.hrtime.bigint()
    const result = spawnSync(
      process.execPath,
      [bin, 'new', 'svc', '--yes', '--no-install', '--no-git'],
      {
        cwd,
        stdio: 'ignore',
      },
    )
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    if (result.status !== 0) throw new Error(`backendkit new exited ${result.status}`)
    files = countFiles(path.join(cwd, 'svc'))
    rmSync(cwd, { recursive: true, force: true })
    if (i >= 2) samples.push(ms)
  }
  return { medianMs: Math.round(median(samples)), files, target: '<= 500 ms' }
}

export function summary(r) {
  return `new (complete service, ${r.files} files)   ${r.medianMs} ms median (target ${r.target}; nest new: 1.1 s for 15 files)`
}
