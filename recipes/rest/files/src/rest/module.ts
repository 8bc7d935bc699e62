import { z } from 'zod'
import { commentRoutes } from '../comments/routes.js'
import { CommentsService } from '../comments/service.js'
import { defineModule, requireService } from '../module.js'
import { postRoutes, userPostRoutes } from '../posts/routes.js'
import { PostsService } from '../posts/service.js'
import { userRoutes } from '../users/routes.js'
import { UsersService } from '../users/service.js'
import { restOperations } from './openapi.js'
import './events.js'
import './schema.js'

declare module '../module.js' {
  interface Services {
    users: UsersService
    posts: PostsService
    comments: CommentsService
  }
}

/**
 * The REST API under /api: users, their posts, and comments. The rules live in the services
 * (`services.users`, `.posts`, `.comments`), which workers and scripts use without HTTP.
 */
export const rest = defineModule({
  name: 'rest',
  env: z.object({}),
  init({ services }) {
    const db = requireService(services, 'db', 'rest')
    const auth = requireService(services, 'auth', 'rest')
    const { cache, events } = services
    const users = new UsersService(db, auth, cache, events)
    const posts = new PostsService(db, cache, events)
    const comments = new CommentsService(db, posts, cache, events)
    return {
      services: { users, posts, comments },
      routes: [
        { path: '/api/users', router: userPostRoutes(posts) },
        { path: '/api/users', router: userRoutes(users) },
        { path: '/api/posts', router: postRoutes(posts) },
        { path: '/api/posts', router: commentRoutes(comments) },
      ],
      openapi: restOperations,
    }
  },
})
