import { defineRecipe } from '../../src/scaffold/recipe.js'

export const deploy = defineRecipe({
  name: 'deploy',
  summary:
    'Dockerfile (multi-stage, non-root), docker-compose, Kubernetes (rolling, blue-green, canary), CI workflow',
  requires: ['core'],
  // The project's own test of its deploy files reads their YAML.
  devDependencies: ['yaml'],
  adds: [
    'Dockerfile',
    'docker-compose.yml',
    'deploy/kubernetes/ (base, blue-green, canary)',
    '.github/workflows/ci.yml',
  ],
})
