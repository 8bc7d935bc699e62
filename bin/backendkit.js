#!/usr/bin/env node
// Kept tiny and free of syntax newer than Node 14, so an old Node prints the message below
// instead of a syntax error.
import module from 'node:module'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `error: backendkit needs Node.js 22.12 or newer; this is ${process.version}.\n` +
      'hint: install Node.js 24 LTS (e.g. `nvm install 24`) and run it again.\n',
  )
  process.exit(2)
}

// Cache compiled code between runs: a cold `--help` then parses almost nothing.
module.enableCompileCache?.()

const { run } = await import('../dist/cli.js')
process.exitCode = await run(process.argv.slice(2))
