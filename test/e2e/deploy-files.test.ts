import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Job } from 'kubernetes-models/batch/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Service } from 'kubernetes-models/v1'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { backingServices, envContext, planProject } from '../../src/scaffold/plan.js'
import { recipeNames } from '../../src/scaffold/registry.js'
import { renderTemplateDir } from '../../src/scaffold/render.js'
import { repoRoot, runBin } from '../support/cli.js'
import { checkDockerfile } from '../support/dockerfile.js'

/**
 * The deploy recipe's files, as generated for the complete service and for the recipe alone:
 * every YAML parses; the Kubernetes base and overlays render with `kubectl kustomize` (the
 * kubectl of this machine) and every object validates against the Kubernetes schemas
 * (kubernetes-models, from npm) and fits the others (selectors, references, probes, shutdown
 * timing); the workflow validates against the GitHub Actions schema (@action-validator/cli, from
 * npm); the Dockerfile passes our rules (test/support/dockerfile.ts: no Dockerfile linter is on
 * npm or Debian here); docker-compose.yml has what the issue asks of it.
 */

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field
type Manifest = any
type Labels = Record<string, string>

const validators: Record<string, (data: Manifest) => { validate(): void }> = {
  'v1/ConfigMap': (data) => new ConfigMap(data),
  'v1/Service': (data) => new Service(data),
  'apps/v1/Deployment': (data) => new Deployment(data),
  'batch/v1/Job': (data) => new Job(data),
  'policy/v1/PodDisruptionBudget': (data) => new PodDisruptionBudget(data),
  'autoscaling/v2/HorizontalPodAutoscaler': (data) => new HorizontalPodAutoscaler(data),
}

const matches = (selector: Labels, labels: Labels) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value)

function render(root: string, dir: string): Manifest[] {
  const output = execFileSync('kubectl', ['kustomize', path.join(root, dir)], { encoding: 'utf8' })
  return parseAllDocuments(output).map((doc) => {
    expect(doc.errors).toEqual([])
    return doc.toJS()
  })
}

function yamlFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
    (file) => /\.ya?ml$/.test(file) && !file.startsWith('node_modules'),
  )
}

const envOf = (container: Manifest): Record<string, string> =>
  Object.fromEntries((container.env ?? []).map((e: Manifest) => [e.name, e.value]))

describe.each([
  ['the complete service', [] as string[]],
  ['the deploy recipe alone', ['--recipes', 'deploy']],
])('deploy files of %s', (_label, args) => {
  let root: string
  const complete = args.length === 0
  const read = (file: string) => readFileSync(path.join(root, file), 'utf8')

  beforeAll(async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'bk-deploy-'))
    const result = await runBin(['new', 'svc', '--no-install', '--no-git', ...args], { cwd })
    expect(result.code, result.stderr).toBe(0)
    root = path.join(cwd, 'svc')
  })

  it('every YAML file parses', () => {
    const files = yamlFiles(root)
    expect(files).toEqual(
      expect.arrayContaining([
        'docker-compose.yml',
        '.github/workflows/ci.yml',
        'deploy/kubernetes/base/kustomization.yaml',
        'deploy/kubernetes/overlays/canary/canary/kustomization.yaml',
      ]),
    )
    for (const file of files) {
      for (const doc of parseAllDocuments(read(file))) expect(doc.errors, file).toEqual([])
    }
  })

  it.each([
    'deploy/kubernetes/base',
    'deploy/kubernetes/overlays/blue-green',
    'deploy/kubernetes/overlays/canary',
  ])(
    '%s renders with kustomize, validates against the Kubernetes schemas, and fits together',
    (dir) => {
      const objects = render(root, dir)
      for (const object of objects) {
        const validator = validators[`${object.apiVersion}/${object.kind}`]
        expect(validator, `${object.apiVersion} ${object.kind} has a schema here`).toBeDefined()
        expect(
          () => validator?.(object).validate(),
          `${object.kind} ${object.metadata.name}`,
        ).not.toThrow()
      }
      const of = (kind: string) => objects.filter((o) => o.kind === kind)
      const deployments = of('Deployment')
      const servers = deployments.filter(
        (d) => d.spec.template.metadata.labels['app.kubernetes.io/component'] === 'server',
      )
      const [worker, ...otherWorkers] = deployments.filter((d) => d.metadata.name === 'svc-worker')
      expect(otherWorkers).toEqual([])
      const [config] = of('ConfigMap')
      expect(of('ConfigMap')).toHaveLength(1)

      // References: settings, autoscalers, budgets, services.
      for (const d of [...deployments, ...of('Job')]) {
        const pod = d.spec.template.spec
        for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
          // The Secret only where the project reads a credential (a pod waits for a Secret that
          // does not exist).
          expect(container.envFrom).toEqual([
            { configMapRef: { name: config.metadata.name } },
            ...(complete ? [{ secretRef: { name: 'svc-secrets' } }] : []),
          ])
          expect(container.image).toBe('ghcr.io/your-org/svc:0.1.0')
        }
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 })
      }
      // Each autoscaler scales the Deployment of its own name (kustomize can link one to the
      // wrong Deployment when two come from the same base under one name).
      for (const hpa of of('HorizontalPodAutoscaler')) {
        expect(hpa.spec.scaleTargetRef.name).toBe(hpa.metadata.name)
        expect(servers.map((d) => d.metadata.name)).toContain(hpa.metadata.name)
      }
      for (const pdb of of('PodDisruptionBudget')) {
        const covered = servers.filter((d) =>
          matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels),
        )
        expect(covered, pdb.metadata.name).toHaveLength(1)
      }
      for (const service of of('Service')) {
        const backends = servers.filter((d) =>
          matches(service.spec.selector, d.spec.template.metadata.labels),
        )
        expect(backends.length, service.metadata.name).toBeGreaterThan(0)
      }
      // No pod of one server Deployment is claimed by another's selector.
      for (const a of servers) {
        for (const b of servers.filter((other) => other !== a)) {
          expect(matches(a.spec.selector.matchLabels, b.spec.template.metadata.labels)).toBe(false)
        }
      }

      // Probes, rolling, shutdown timing.
      const timeoutMs = Number(config.data.SHUTDOWN_TIMEOUT_MS)
      for (const d of servers) {
        expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0)
        const pod = d.spec.template.spec
        const [server] = pod.containers
        expect(server.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' })
        expect(server.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' })
        expect(server.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' })
        const [sleep, seconds] = server.lifecycle.preStop.exec.command
        expect(sleep).toBe('sleep')
        expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
          Number(seconds) * 1000 + timeoutMs,
        )
        expect(server.ports).toContainEqual({ name: 'http', containerPort: 3000 })
        if (complete) {
          expect(server.ports).toContainEqual({ name: 'metrics', containerPort: 9464 })
          expect(d.spec.template.metadata.annotations).toMatchObject({
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': '9464',
          })
        } else {
          expect(d.spec.template.metadata.annotations).toBeUndefined()
        }
      }
      const [workerContainer] = worker.spec.template.spec.containers
      expect(workerContainer.command).toEqual(['node', 'dist/worker.js'])
      expect(workerContainer.readinessProbe.httpGet).toEqual({
        path: '/health/ready',
        port: 'health',
      })
      expect(workerContainer.ports).toContainEqual({
        name: 'health',
        containerPort: Number(envOf(workerContainer).WORKER_HEALTH_PORT),
      })
      expect(worker.spec.strategy.rollingUpdate.maxUnavailable).toBe(0)
      expect(worker.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
        timeoutMs,
      )

      // Settings: production values; never a secret.
      expect(config.data.NODE_ENV).toBe('production')
      expect(
        Object.keys(config.data).filter((k) => /(_URL|SECRET|PASSWORD|TOKEN|_KEY)$/.test(k)),
      ).toEqual([])

      // The migration Job, only where there are migrations to run.
      const jobs = of('Job')
      if (complete) {
        expect(jobs).toHaveLength(1)
        expect(jobs[0].metadata.labels['app.kubernetes.io/component']).toBe('migrate')
        expect(jobs[0].spec.template.spec.initContainers[0].command).toEqual([
          'node',
          'dist/db/migrate.js',
        ])
        expect(jobs[0].spec.template.spec.restartPolicy).toBe('Never')
      } else {
        expect(jobs).toEqual([])
      }

      if (dir.endsWith('blue-green')) {
        expect(servers.map((d) => d.metadata.name).sort()).toEqual(['svc-blue', 'svc-green'])
        const live = of('Service').find((s) => s.metadata.name === 'svc')
        const preview = of('Service').find((s) => s.metadata.name === 'svc-preview')
        const slotOf = (service: Manifest) =>
          servers
            .filter((d) => matches(service.spec.selector, d.spec.template.metadata.labels))
            .map((d) => d.metadata.name)
        expect(slotOf(live)).toEqual(['svc-blue'])
        expect(slotOf(preview)).toEqual(['svc-green'])
      } else if (dir.endsWith('canary')) {
        expect(servers.map((d) => d.metadata.name).sort()).toEqual(['svc-canary', 'svc-stable'])
        const canary = servers.find((d) => d.metadata.name === 'svc-canary')
        expect(canary.spec.replicas).toBe(1)
        expect(canary.spec.template.metadata.labels.track).toBe('canary')
        expect(of('HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name)).toEqual([
          'svc-stable',
        ])
        const [service] = of('Service')
        expect(matches(service.spec.selector, canary.spec.template.metadata.labels)).toBe(true)
      } else {
        expect(servers.map((d) => d.metadata.name)).toEqual(['svc'])
      }
    },
  )

  it('the workflow validates against the GitHub Actions schema and gates the deploy', () => {
    const file = path.join(root, '.github/workflows/ci.yml')
    const validator = path.join(repoRoot, 'node_modules/.bin/action-validator')
    const result = spawnSync(validator, [file], { encoding: 'utf8' })
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0)
    const workflow = parse(readFileSync(file, 'utf8'))
    expect(Object.keys(workflow.jobs.test.services)).toEqual(['postgres', 'redis', 'rabbitmq'])
    const runs = (job: string): string =>
      workflow.jobs[job].steps.map((s: { run?: string }) => s.run ?? '').join('\n')
    for (const step of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test']) {
      expect(runs('test')).toContain(step)
    }
    if (complete) {
      expect(runs('test')).toMatch(
        /npx backendkit migrate up\nnpx backendkit migrate status --check/,
      )
      // The migration Job, before the rollout, and its failure fails the deploy.
      expect(runs('deploy')).toMatch(
        /apply -f manifests.yaml -l app.kubernetes.io\/component=migrate/,
      )
      expect(runs('deploy')).toMatch(/\*Failed\*\).*exit 1/)
    } else {
      expect(runs('test') + runs('deploy')).not.toContain('migrate')
    }
    const image = workflow.jobs.image.steps.find((s: { uses?: string }) =>
      s.uses?.startsWith('docker/build-push-action'),
    )
    expect(image.with.push).toBe(true)
    const deploy = workflow.jobs.deploy.steps
    const gate = deploy.findIndex((s: { run?: string }) => s.run?.includes('backendkit health'))
    const rollout = deploy.findIndex((s: { id?: string }) => s.id === 'rollout')
    const rollback = deploy.findIndex((s: { run?: string }) => s.run?.includes('rollout undo'))
    expect(rollout).toBeGreaterThan(-1)
    expect(gate).toBeGreaterThan(rollout)
    expect(deploy[gate].run).toMatch(/--wait/)
    expect(rollback).toBeGreaterThan(gate)
    expect(deploy[rollback].if).toMatch(/failure\(\)/)
  })

  it('the Dockerfile passes the rules: multi-stage, pinned, non-root, no secret in a layer', () => {
    expect(checkDockerfile(read('Dockerfile'), read('.dockerignore'))).toEqual([])
    // From a checkout, the build stage gets the packed backendkit its npm ci installs.
    expect(read('Dockerfile')).toContain(
      'COPY vendor/backendkit-0.1.0.tgz ./vendor/backendkit-0.1.0.tgz',
    )
  })

  it('docker-compose.yml: the service, the worker and their services, each with a healthcheck', () => {
    const compose = parse(read('docker-compose.yml'))
    const services = compose.services
    // The backing services follow the variables the project reads.
    const reads = (name: string) => new RegExp(`^${name}=`, 'm').test(read('.env.example'))
    const expected = [
      ...(reads('DATABASE_URL') ? ['migrate'] : []),
      'app',
      'worker',
      ...(reads('DATABASE_URL') ? ['postgres'] : []),
      ...(reads('REDIS_URL') ? ['redis'] : []),
      ...(reads('AMQP_URL') ? ['rabbitmq'] : []),
    ]
    expect(expected.includes('postgres')).toBe(complete)
    expect(Object.keys(services)).toEqual(expected)
    for (const name of expected.filter((n) => n !== 'migrate')) {
      expect(services[name].healthcheck?.test, name).toBeDefined()
    }
    expect(services.worker.command).toEqual(['node', 'dist/worker.js'])
    expect(services.app.env_file).toEqual([
      { path: '.env.example' },
      { path: '.env', required: false },
    ])
    if (complete) {
      expect(services.redis.command.join(' ')).toMatch(/--appendonly yes/)
      expect(services.redis.command.join(' ')).toMatch(/--maxmemory-policy noeviction/)
      for (const name of ['app', 'worker']) {
        expect(services[name].depends_on).toMatchObject({
          migrate: { condition: 'service_completed_successfully' },
          redis: { condition: 'service_healthy' },
        })
        expect(services[name].environment).toMatchObject({
          NODE_ENV: 'production',
          DATABASE_URL: expect.stringContaining('@postgres:5432/'),
          REDIS_URL: 'redis://redis:6379',
          // Required from .env: production refuses the placeholder of .env.example.
          JWT_SECRET: expect.stringMatching(/^\$\{JWT_SECRET:\?/),
        })
      }
      expect(services.migrate.command.join(' ')).toContain('node dist/db/migrate.js')
    } else {
      expect(services.app.depends_on).toBeUndefined()
    }
  })
})

describe('docker-compose.yml for a project that reads AMQP_URL (the queues recipe, to come)', () => {
  it('adds RabbitMQ with a healthcheck and a volume, and the service and the worker wait for it', () => {
    const env = [
      ...planProject('svc', recipeNames).env,
      {
        recipe: 'core' as const,
        vars: [{ name: 'AMQP_URL', example: 'amqp://127.0.0.1:5672', description: 'RabbitMQ' }],
      },
    ]
    const [compose] = renderTemplateDir(path.join(repoRoot, 'recipes/deploy/files'), {
      name: 'svc',
      resourceName: 'svc',
      recipes: Object.fromEntries(recipeNames.map((r) => [r, true])),
      sections: [],
      env: envContext(env),
      uses: backingServices(env),
      backendkit: { tarball: '' },
    }).filter((file) => file.path === 'docker-compose.yml')
    const { services, volumes } = parse(compose!.content.toString())
    expect(services.rabbitmq.healthcheck.test).toContain('rabbitmq-diagnostics')
    expect(Object.keys(volumes)).toContain('rabbitmq-data')
    for (const name of ['app', 'worker']) {
      expect(services[name].depends_on.rabbitmq).toEqual({ condition: 'service_healthy' })
      expect(services[name].environment.AMQP_URL).toMatch(/@rabbitmq:5672$/)
    }
  })
})
