// npm run bench [-- suite…]: runs the benchmark suites in bench/suites and merges their results
// into bench/results/latest.json (one key per suite), so later benchmarks extend the same file.
// Benchmarks are not tests: nothing here asserts a timing.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'

const suitesDir = new URL('./suites/', import.meta.url)
const resultsFile = new URL('./results/latest.json', import.meta.url)
const wanted = process.argv.slice(2)
const suites = readdirSync(suitesDir)
  .filter((file) => file.endsWith('.js'))
  .map((file) => file.slice(0, -3))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
if (wanted.length && suites.length !== wanted.length) {
  console.error(
    `unknown suite; known: ${readdirSync(suitesDir)
      .map((f) => f.slice(0, -3))
      .join(', ')}`,
  )
  process.exit(2)
}

let results = {}
try {
  results = JSON.parse(readFileSync(resultsFile, 'utf8'))
} catch {
  // first run
}
const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model }
for (const name of suites) {
  const suite = await import(new URL(`${name}.js`, suitesDir).href)
  console.log(`\n${name}: ${suite.description}`)
  const result = await suite.run()
  console.log(suite.summary(result))
  results[name] = { measuredAt: new Date().toISOString(), machine, ...result }
}
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`)
console.log(`\nresults written to bench/results/latest.json`)
