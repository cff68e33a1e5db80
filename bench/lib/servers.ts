/**
 * The servers a benchmark can start: the bidder and its peers (bench/peers/), all from
 * the compiled JS in dist/, all configured by the same BIDDER_* variables.
 */
import type { ServerLaunch } from './proc';

export type ServerName = 'bidder' | 'ceiling' | 'inline' | 'inline-batched' | 'fastify';

export const SERVER_DESCRIPTIONS: Record<ServerName, string> = {
  bidder: 'the bidder: uWS front end, piscina scoring pool',
  ceiling: 'uWS reads the body and answers 204, no work',
  inline: 'uWS, JSON.parse and the same model inline on one event loop, per request',
  'inline-batched': 'uWS, the same engine inline, batched per event-loop turn like the workers',
  fastify: 'Fastify, JSON.parse and the same model inline, per request',
};

export function serverLaunch(name: ServerName, env: Record<string, string>): ServerLaunch {
  const common = { name, env, args: [] as string[], readyPath: '/readyz' };
  switch (name) {
    case 'bidder':
      return { ...common, script: 'dist/src/main.js', opsListener: true };
    case 'ceiling':
      return { ...common, script: 'dist/bench/peers/ceiling-server.js' };
    case 'inline':
      return { ...common, script: 'dist/bench/peers/inline-server.js' };
    case 'inline-batched':
      return { ...common, script: 'dist/bench/peers/inline-server.js', args: ['--batched'] };
    case 'fastify':
      return { ...common, script: 'dist/bench/peers/fastify-server.js' };
  }
}
