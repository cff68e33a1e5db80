/**
 * Peer: one uWebSockets.js event loop that does everything itself, with the same
 * BidEngine (JSON.parse, decide, session.run, serialise) and the same model as the
 * bidder's workers, receiving bodies the same way (into a receive slab).
 *
 * - per-request (default): each request is parsed and scored on its own as soon as its
 *   body is complete: one session.run per request. The inline server of the issue.
 * - batched (--batched): the requests that completed in one event-loop turn go through
 *   the engine together: one session.run per batch, as in the bidder's workers. The only
 *   difference from the bidder is then the thread layout, so this peer measures what the
 *   pool's threads earn, apart from what batching earns.
 *
 *   node dist/bench/peers/inline-server.js [--batched]   (BIDDER_PORT, BIDDER_MODEL as for the bidder)
 */
import type { HttpResponse } from 'uWebSockets.js';
import { loadNativeUws } from '../../src/server/uws';
import { monoNowMs } from '../../src/util/clock';
import { createPeerEngine, gzipFlag, statusLine, type PeerJob } from './peer-engine';

async function main(): Promise<void> {
  const peer = await createPeerEngine();
  const { config, slab } = peer;
  const uws = loadNativeUws();
  const maxBatch = process.argv.includes('--batched') ? config.pool.maxBatchSize : 1;
  let batch: PeerJob[] = [];
  let running = false;
  let scheduled = false;

  // One batch at a time through the engine: the requests of the next turns wait for it.
  const flush = async (): Promise<void> => {
    scheduled = false;
    if (running || batch.length === 0) return;
    running = true;
    while (batch.length > 0) {
      const jobs = batch.slice(0, maxBatch);
      batch = batch.slice(jobs.length);
      await peer.run(jobs);
    }
    running = false;
  };

  const app = uws.App();
  app.get('/readyz', (res) => {
    res.end('ready');
  });
  app.post('/openrtb2/bid', (res: HttpResponse, req) => {
    const declared = Number(req.getHeader('content-length'));
    const flags = gzipFlag(req.getHeader('content-encoding'));
    const offset = slab.alloc(declared);
    if (!(declared >= 0) || offset < 0) {
      if (offset >= 0) slab.free(offset);
      res.writeStatus('503 Service Unavailable').end();
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const job: PeerJob = {
      arrivedAt: monoNowMs(),
      receivedAt: 0,
      offset,
      length: declared,
      flags,
      reply(status, body) {
        if (aborted) return;
        res.cork(() => {
          if (body === null) res.writeStatus(statusLine(status)).endWithoutBody();
          else res.writeStatus(statusLine(status)).writeHeader('content-type', 'application/json').end(body);
        });
      },
    };
    let received = 0;
    res.onData((chunk, isLast) => {
      slab.bytes.set(new Uint8Array(chunk), offset + received);
      received += chunk.byteLength;
      if (!isLast) return;
      job.receivedAt = monoNowMs();
      batch.push(job);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  });
  app.listen(config.server.host, config.server.port, (socket) => {
    if (!socket) throw new Error('cannot listen');
    process.stdout.write(`inline peer (${maxBatch === 1 ? 'per-request' : 'batched'}) listening on ${config.server.port}\n`);
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
