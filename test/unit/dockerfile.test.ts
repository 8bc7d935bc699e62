import { describe, expect, it } from 'vitest'
import { planProject } from '../../src/scaffold/plan.js'
import { checkDockerfile, parseDockerfile } from '../support/dockerfile.js'

/** The generated Dockerfile and .dockerignore: the rules must pass them and catch each fault. */
const plan = planProject('demo', ['core', 'database', 'deploy'])
const file = (name: string) => plan.files.find((f) => f.path === name)!.content.toString()
const dockerfile = file('Dockerfile')
const dockerignore = file('.dockerignore')

describe('the Dockerfile rules', () => {
  it('pass the generated Dockerfile', () => {
    expect(checkDockerfile(dockerfile, dockerignore)).toEqual([])
  })

  it('read its stages, pinned image, flags and continued lines', () => {
    const { stages } = parseDockerfile(dockerfile)
    expect(stages.map((s) => [s.name, s.image])).toEqual([
      ['build', 'node:24.21.0-bookworm-slim'],
      ['runtime', 'node:24.21.0-bookworm-slim'],
    ])
    const runtime = stages[1]!.instructions
    expect(runtime.find((i) => i.keyword === 'COPY' && i.flags.from)).toMatchObject({
      flags: { from: 'build' },
      args: '/app/dist ./dist',
    })
    expect(runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args).toMatch(/^CMD \["node"/)
  })

  it.each([
    ['one stage', (d: string) => d.slice(d.search(/^FROM .* AS runtime$/m)), /not multi-stage/],
    [
      'an unpinned base image',
      (d: string) => d.replace(/ARG NODE_IMAGE=.*/, 'ARG NODE_IMAGE=node'),
      /not pinned/,
    ],
    [
      'the latest tag',
      (d: string) => d.replace(/ARG NODE_IMAGE=.*/, 'ARG NODE_IMAGE=node:latest'),
      /not pinned/,
    ],
    ['no USER', (d: string) => d.replace('USER node\n', ''), /runs as root/],
    ['USER root', (d: string) => d.replace('USER node', 'USER root'), /runs as root/],
    [
      'a secret in ENV',
      (d: string) =>
        d.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=production JWT_SECRET=hunter2'),
      /JWT_SECRET puts a secret/,
    ],
    [
      'a secret build argument',
      (d: string) => d.replace(/^(FROM .* AS runtime)$/m, '$1\nARG NPM_TOKEN=abc'),
      /NPM_TOKEN puts a secret/,
    ],
    [
      'an env file copied',
      (d: string) => d.replace('COPY backendkit.json ./', 'COPY backendkit.json .env ./'),
      /copies an env file/,
    ],
    [
      'npm install',
      (d: string) => d.replace('npm ci --omit=dev', 'npm install --omit=dev'),
      /use npm ci/,
    ],
    [
      'dev dependencies at run time',
      (d: string) => d.replace('npm ci --omit=dev', 'npm ci'),
      /--omit=dev/,
    ],
    [
      'nothing from the build stage',
      (d: string) => d.replace('COPY --from=build /app/dist ./dist', 'COPY dist ./dist'),
      /copies nothing built/,
    ],
    [
      'the whole source in the runtime stage',
      (d: string) => d.replace('COPY backendkit.json ./', 'COPY . .'),
      /whole source tree/,
    ],
    [
      'no HEALTHCHECK',
      (d: string) => d.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, ''),
      /no HEALTHCHECK/,
    ],
    [
      'CMD in shell form',
      (d: string) => d.replace('CMD ["node", "dist/server.js"]', 'CMD node dist/server.js'),
      /shell form/,
    ],
    [
      'CMD through npm',
      (d: string) => d.replace('CMD ["node", "dist/server.js"]', 'CMD ["npm", "start"]'),
      /runs npm/,
    ],
  ])('catch %s', (_fault, change, problem) => {
    const changed = change(dockerfile)
    expect(changed).not.toBe(dockerfile)
    expect(checkDockerfile(changed, dockerignore)).toContainEqual(expect.stringMatching(problem))
  })

  it('catch a build context that would carry .env into COPY . .', () => {
    const withoutEnv = dockerignore.replace(/^\.env$/m, '')
    expect(checkDockerfile(dockerfile, withoutEnv)).toContainEqual(
      expect.stringMatching(/does not exclude \.env/),
    )
  })
})
