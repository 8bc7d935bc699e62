import { subscribe } from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'

/**
 * Imported into a spawned server (`node --import`) by the process-safety tests, so that the app
 * itself needs no route of the kind: a request to `/crash/rejection` leaves a promise rejected
 * that nothing handles, one to `/crash/exception` throws where nothing can catch it. This is how
 * a bug in any route or module surfaces.
 */
subscribe('http.server.request.start', (message) => {
  const { request } = message as { request: IncomingMessage }
  if (request.url === '/crash/rejection') {
    void Promise.reject(new Error('a rejection nothing handled'))
  } else if (request.url === '/crash/exception') {
    setImmediate(() => {
      throw new Error('an exception nothing caught')
    })
  }
})
