import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnv } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'

/**
 * The deploy files against the code they deploy: what changes in one (a variable in
 * .env.example, SHUTDOWN_TIMEOUT_MS, an entry point) must change in the other. Rendering and
 * validating the Kubernetes manifests needs kubectl: see README.md, "Deploy".
 */

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string) => readFileSync(path.join(root, file), 'utf8')
/** The variables an env file sets (none when the file is not there: no secret to list). */
const names = (file: string) =>
  existsSync(path.join(root, file)) ? Object.keys(parseEnv(read(file))) : []
const kubernetes = 'deploy/kubernetes/base'

function yamlFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => path.join(dir, file))
}

interface Container {
  command?: string[]
  env?: { name: string; value: string }[]
  ports?: { name: string; containerPort: number }[]
  lifecycle?: { preStop?: { exec?: { command: string[] } } }
}
interface PodTemplate {
  spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: Container[] } } }
}

const podSpec = (file: string) => (parse(read(file)) as PodTemplate).spec.template.spec

describe('deploy files', () => {
  it('every YAML file parses', () => {
    const files = ['docker-compose.yml', ...yamlFiles('deploy'), ...yamlFiles('.github')]
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      for (const document of parseAllDocuments(read(file))) {
        expect(document.errors, file).toEqual([])
      }
    }
  })

  it('the Kubernetes settings and secrets name every variable of .env.example, each once', () => {
    const settings = names(`${kubernetes}/shared/config.env`)
    const secrets = names(`${kubernetes}/shared/secrets.env.example`)
    expect(settings.filter((name) => secrets.includes(name))).toEqual([])
    expect([...settings, ...secrets].sort()).toEqual(names('.env.example').sort())
  })

  it('a pod is given longer to stop than the service takes to stop', () => {
    const timeoutMs = Number(parseEnv(read(`${kubernetes}/shared/config.env`)).SHUTDOWN_TIMEOUT_MS)
    expect(timeoutMs).toBeGreaterThan(0)
    const server = podSpec(`${kubernetes}/server/deployment.yaml`)
    const preStop = server.containers[0]?.lifecycle?.preStop?.exec?.command ?? []
    expect(preStop[0]).toBe('sleep')
    const preStopMs = Number(preStop[1]) * 1000
    // The grace period counts from the preStop hook: SIGTERM comes after it.
    expect(server.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopMs + timeoutMs)
    const worker = podSpec(`${kubernetes}/shared/worker.yaml`)
    expect(worker.terminationGracePeriodSeconds * 1000).toBeGreaterThan(timeoutMs)
  })

  it('the server listens on the port its probes and Service use', () => {
    const port = parseEnv(read(`${kubernetes}/shared/config.env`)).PORT
    const [server] = podSpec(`${kubernetes}/server/deployment.yaml`).containers
    expect(server?.ports?.find((p) => p.name === 'http')?.containerPort).toBe(Number(port))
  })

  it("the worker's probes are on the port it serves them on", () => {
    const [worker] = podSpec(`${kubernetes}/shared/worker.yaml`).containers
    const port = worker?.env?.find((e) => e.name === 'WORKER_HEALTH_PORT')?.value
    expect(worker?.ports?.find((p) => p.name === 'health')?.containerPort).toBe(Number(port))
  })

  it('every entry point the deploy files start is compiled from a source file', () => {
    const files = ['Dockerfile', 'docker-compose.yml', ...yamlFiles('deploy')]
    const entries = new Set(files.flatMap((file) => read(file).match(/dist\/[\w/.-]+\.js/g) ?? []))
    expect(entries).toContain('dist/server.js')
    expect(entries).toContain('dist/worker.js')
    for (const entry of entries) {
      const source = entry.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')
      expect(() => read(source), `${entry} is built from ${source}`).not.toThrow()
    }
  })
})
