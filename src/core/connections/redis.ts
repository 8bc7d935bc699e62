import { Redis } from 'ioredis'
import { type ConnectionUrl, redisService } from '../urls.js'
import { CONNECT_TIMEOUT_MS, connectionError } from './describe.js'

/**
 * Opens one ioredis connection that fails fast (no endless reconnects, no offline queue), runs
 * `fn` and always closes it.
 */
export async function usingRedis<T>(
  target: ConnectionUrl,
  fn: (redis: Redis) => Promise<T>,
): Promise<T> {
  const redis = new Redis(target.raw, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectionName: 'backendkit',
    // disconnect() arms a timer that only the socket's 'close' clears; a socket that never
    // connected has closed already, so the default 2 s would keep a failed command alive.
    disconnectTimeout: 100,
  })
  let lastError: unknown
  redis.on('error', (error) => {
    lastError = error
  })
  try {
    try {
      await redis.connect()
    } catch (error) {
      throw connectionError(redisService, target, lastError ?? error)
    }
    return await fn(redis)
  } finally {
    redis.disconnect()
  }
}
