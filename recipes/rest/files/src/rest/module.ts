import { z } from 'zod'
import { defineModule, requireService } from '../module.js'
import { postRoutes, userPostRoutes } from '../posts/routes.js'
import { userRoutes } from '../users/routes.js'
import { openApiRoutes } from './openapi.js'
import './schema.js'

/** The REST API: users, their posts, and comments, under /api. */
export const rest = defineModule({
  name: 'rest',
  env: z.object({}),
  init({ services }) {
    const deps = {
      db: requireService(services, 'db', 'rest'),
      auth: requireService(services, 'auth', 'rest'),
    }
    return {
      routes: [
        { path: '/api/users', router: userPostRoutes(deps) },
        { path: '/api/users', router: userRoutes(deps) },
        { path: '/api/posts', router: postRoutes(deps) },
        { path: '/', router: openApiRoutes({ title: 'API', version: '1.0.0' }) },
      ],
    }
  },
})
