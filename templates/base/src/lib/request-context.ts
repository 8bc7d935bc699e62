import { AsyncLocalStorage } from 'node:async_hooks'

declare global {
  namespace Express {
    /** The authenticated caller; the auth recipe adds what it knows (the role). */
    interface User {
      id: string
    }
    interface Request {
      /** Set by the auth context for a request carrying a valid access token. */
      user?: User
    }
  }
}

export interface RequestContext {
  /** The request id (X-Request-Id), on every log line written while serving the request. */
  requestId: string
}

/**
 * The request being served, wherever the code runs in its async call tree: the logger adds its
 * id to every line, so a module's log lines can be traced to the request that caused them.
 */
export const requestContext = new AsyncLocalStorage<RequestContext>()
