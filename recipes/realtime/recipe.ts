import { defineRecipe } from '../../src/scaffold/recipe.js'

export const realtime = defineRecipe({
  name: 'realtime',
  summary:
    'Socket.IO and ws on the same server: token auth on connect, rooms per post, typing, across instances',
  requires: ['redis', 'rest'],
  dependencies: ['socket.io', '@socket.io/redis-streams-adapter', 'ws'],
  devDependencies: ['@types/ws', 'socket.io-client'],
  module: { from: './realtime/module.js', name: 'realtime' },
  env: [
    {
      name: 'REALTIME_PING_INTERVAL_MS',
      example: '25000',
      description: 'The server pings every realtime client this often',
    },
    {
      name: 'REALTIME_PING_TIMEOUT_MS',
      example: '20000',
      description: 'A client that has not answered a ping this long after is dropped',
    },
    {
      name: 'REALTIME_MAX_PAYLOAD_BYTES',
      example: '16384',
      description: 'Largest message a realtime client may send (larger: closed with 1009)',
    },
    {
      name: 'REALTIME_SESSION_CHECK_MS',
      example: '30000',
      description: 'How often open connections are checked for expired or revoked tokens',
    },
  ],
  adds: [
    '/socket.io',
    '/ws',
    'rooms per post: comment:created, typing',
    'Redis streams adapter',
    'WebSockets closed with 1001 on shutdown',
  ],
})
