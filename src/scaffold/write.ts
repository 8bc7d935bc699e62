import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { CHECKSUMS_FILE, type PlannedFile, readChecksums, renderChecksums } from './plan.js'

export interface WriteResult {
  written: string[]
  /** Files that already existed in the target and were left exactly as they were. */
  kept: string[]
}

function writeTo(dir: string, file: PlannedFile): void {
  const target = path.join(dir, file.path)
  mkdirSync(path.dirname(target), { recursive: true })
  writeFileSync(target, file.content, { mode: file.mode })
  chmodSync(target, file.mode)
}

/**
 * Writes a new project without ever leaving half of one: everything goes to a staging folder
 * beside the target first. A target that does not exist is then one rename; into an existing
 * folder (`--force`) files are moved one by one and an existing file is never replaced.
 */
export function writeProject(target: string, files: readonly PlannedFile[]): WriteResult {
  const exists = existsSync(target)
  const kept = exists
    ? files.filter((f) => existsSync(path.join(target, f.path))).map((f) => f.path)
    : []
  const keptSet = new Set(kept)
  const toWrite = files
    .filter((f) => !keptSet.has(f.path))
    .map((f) => (f.path === CHECKSUMS_FILE && kept.length ? withoutKept(f, keptSet) : f))
  const parent = path.dirname(target)
  mkdirSync(parent, { recursive: true })
  const staging = mkdtempSync(path.join(parent, `.${path.basename(target)}.backendkit-`))
  try {
    for (const file of toWrite) writeTo(staging, file)
    if (!exists) {
      renameSync(staging, target)
    } else {
      for (const file of toWrite) {
        const destination = path.join(target, file.path)
        mkdirSync(path.dirname(destination), { recursive: true })
        if (existsSync(destination)) continue // appeared meanwhile: still never overwrite
        renameSync(path.join(staging, file.path), destination)
      }
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return { written: toWrite.map((f) => f.path), kept }
}

/** The checksums describe only what backendkit wrote: a kept file is the user's. */
function withoutKept(manifest: PlannedFile, kept: ReadonlySet<string>): PlannedFile {
  const sums = readChecksums(manifest.content.toString('utf8'))
  const remaining = Object.fromEntries(Object.entries(sums).filter(([file]) => !kept.has(file)))
  return { ...manifest, content: Buffer.from(renderChecksums(remaining)) }
}
