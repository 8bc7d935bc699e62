// Run as `node --import ./loaded-modules.mjs bin/backendkit.js …`: records every bare package the
// process resolves and prints them as JSON on fd 3 at exit, so a test can prove `--help` stays light.
import { writeSync } from 'node:fs'
import module from 'node:module'

const packages = new Set()
module.registerHooks({
  resolve(specifier, context, nextResolve) {
    if (!/^(node:|\.|\/|file:|data:)/.test(specifier)) {
      const parts = specifier.split('/')
      packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0])
    }
    return nextResolve(specifier, context)
  },
})
process.on('exit', () => writeSync(3, JSON.stringify([...packages])))
