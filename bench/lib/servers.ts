/**
 * The servers a benchmark can start: the bidder and its peers (bench/peers/), all from
 * the compiled JS in dist/, all configured by the same BIDDER_* variables.
 */
import type { ServerLaunch } from './proc';

export type ServerName = 'bidder' | 'ceiling' | 'inline' | 'twin' | 'fastify';

/**
 * The bidder's twin (issue 9): the same engine on one uWS loop, batched per loop turn
 * (bench/peers/inline-server.ts --batched). The only difference from the bidder is then
 * the thread layout, so every bidder/twin ratio measures what the threads earn.
 */
export const TWIN: ServerName = 'twin';

export const SERVER_NAMES: readonly ServerName[] = ['bidder', 'ceiling', 'inline', 'twin', 'fastify'];

/** Names the command lines still accept for a server: the twin was called inline-batched. */
const kAliases: Readonly<Record<string, ServerName>> = { 'inline-batched': 'twin' };

export const SERVER_DESCRIPTIONS: Record<ServerName, string> = {
  bidder: 'the bidder: uWS front end, piscina scoring pool',
  ceiling: 'uWS reads the body and answers 204, no work',
  inline: 'uWS, JSON.parse and the same model inline on one event loop, per request',
  twin: 'twin (inline-batched): the same engine on one uWS loop, batched per loop turn',
  fastify: 'Fastify, JSON.parse and the same model inline, per request',
};

/** A server name from a command line (aliases resolved), or an error naming the known ones. */
export function parseServerName(name: string): ServerName {
  const resolved = kAliases[name] ?? name;
  if ((SERVER_NAMES as readonly string[]).includes(resolved)) return resolved as ServerName;
  throw new Error(`unknown server "${name}"; known: ${SERVER_NAMES.join(', ')} (inline-batched is the twin)`);
}

export function serverLaunch(name: ServerName, env: Record<string, string>): ServerLaunch {
  const common = { name, env, args: [] as string[], readyPath: '/readyz' };
  switch (name) {
    case 'bidder':
      return { ...common, script: 'dist/src/main.js', opsListener: true };
    case 'ceiling':
      return { ...common, script: 'dist/bench/peers/ceiling-server.js' };
    case 'inline':
      return { ...common, script: 'dist/bench/peers/inline-server.js' };
    case 'twin':
      return { ...common, script: 'dist/bench/peers/inline-server.js', args: ['--batched'] };
    case 'fastify':
      return { ...common, script: 'dist/bench/peers/fastify-server.js' };
  }
}
