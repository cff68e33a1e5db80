/**
 * Peer: the naive choice. Fastify (node:http underneath) with its default JSON body
 * parsing replaced by a raw buffer, then the bidder's own engine (JSON.parse, decide, one
 * session.run per request, serialise) inline on the one event loop. What a team would
 * write first; the bidder has to beat it by a wide margin to justify its design.
 *
 *   node dist/bench/peers/fastify-server.js   (BIDDER_PORT, BIDDER_MODEL as for the bidder)
 */
import Fastify from 'fastify';
import { monoNowMs } from '../../src/util/clock';
import { createPeerEngine, gzipFlag } from './peer-engine';

async function main(): Promise<void> {
  const peer = await createPeerEngine();
  const { config, slab } = peer;
  const app = Fastify({ logger: false, bodyLimit: config.server.maxBodyBytes });
  // Keep the body as bytes, whatever its type: the engine parses it (JSON.parse) as the
  // bidder's workers do, and gunzips it when it is gzip.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.get('/readyz', async () => 'ready');
  app.post('/openrtb2/bid', (request, reply) => {
    const arrivedAt = monoNowMs();
    const body = request.body as Buffer;
    const offset = slab.alloc(body.length);
    if (offset < 0) {
      reply.code(503).send();
      return;
    }
    slab.bytes.set(body, offset);
    void peer.run([
      {
        arrivedAt,
        receivedAt: arrivedAt,
        offset,
        length: body.length,
        flags: gzipFlag(String(request.headers['content-encoding'] ?? '')),
        reply(status, json) {
          reply.code(status);
          if (json === null) reply.send();
          // Fastify may write after this returns: bytes the engine reuses are copied first.
          else reply.header('content-type', 'application/json').send(typeof json === 'string' ? json : Buffer.from(json));
        },
      },
    ]);
  });
  await app.listen({ host: config.server.host, port: config.server.port });
  process.stdout.write(`fastify peer listening on ${config.server.port}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
