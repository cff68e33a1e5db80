/**
 * Peers for comparison: one uWebSockets.js event loop that does everything itself, with
 * the same BidEngine (parse, decide, session.run, serialise) and the same model as the
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
import { readFileSync } from 'node:fs';
import type { HttpResponse } from 'uWebSockets.js';
import { writeTask } from '../../src/codec/request-batch';
import { loadConfig } from '../../src/config/config';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import { parseCampaigns } from '../../src/decisioning/campaign-loader';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { kMaxSlots, SlotWriter } from '../../src/metrics/shared-metrics';
import { loadModelShared } from '../../src/models/model-bytes';
import { ReceiveSlab } from '../../src/pool/receive-slab';
import { loadNativeUws } from '../../src/server/uws';
import { monoNowMs } from '../../src/util/clock';
import { BidEngine, type ReplySink } from '../../workers/bid-engine';
import { createScorer } from '../../workers/onnx-scorer';

interface Pending {
  res: HttpResponse;
  arrivedAt: number;
  receivedAt: number;
  offset: number;
  length: number;
  aborted: boolean;
  flags: number;
}

async function main(): Promise<void> {
  const resolved = loadConfig();
  if (!resolved.ok) throw new Error(resolved.errors.join('\n'));
  const config = resolved.config;
  const uws = loadNativeUws();
  const parsed = parseCampaigns(JSON.parse(readFileSync(config.bidding.campaignsFile, 'utf8')));
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const model = loadModelShared(config.model.dir, config.model.name);
  if (!model.ok) throw new Error(model.error.message);
  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  const scorer = await createScorer(model.shared, model.byteLength, 4096);
  await scorer.warm();
  const slab = new ReceiveSlab(config.pool.slabSegmentBytes, config.pool.slabSegments);
  const engine = new BidEngine(
    new CampaignIndex(parsed.campaigns),
    scorer,
    outcomes,
    new SlotWriter(layout, layout.allocate(), 0),
    slab.buffer,
    {
      decision: { fxRates: config.bidding.fxRates, seatId: config.bidding.seatId },
      seatId: config.bidding.seatId,
      tmaxMarginMs: config.bidding.tmaxMarginMs,
      maxBodyBytes: config.server.maxBodyBytes,
      testHooks: false,
      idPrefix: 'inline-',
    },
  );

  const maxBatch = process.argv.includes('--batched') ? config.pool.maxBatchSize : 1;
  let batch: Pending[] = [];
  let running = false;
  let scheduled = false;
  const sink: ReplySink & { jobs: Pending[] } = {
    jobs: [],
    add(id, status, _outcome, body) {
      const job = this.jobs[id];
      slab.free(job.offset);
      if (job.aborted) return;
      job.res.cork(() => {
        if (status === 204 || body === null) job.res.writeStatus(status === 204 ? '204 No Content' : `${status} Error`).endWithoutBody();
        else job.res.writeStatus(status === 200 ? '200 OK' : `${status} Error`).writeHeader('content-type', 'application/json').end(body);
      });
    },
  };

  // One batch at a time through the engine: the requests of the next turns wait for it.
  const flush = async (): Promise<void> => {
    scheduled = false;
    if (running || batch.length === 0) return;
    running = true;
    while (batch.length > 0) {
      const jobs = batch.slice(0, maxBatch);
      batch = batch.slice(jobs.length);
      const words = writeTask(jobs, monoNowMs());
      sink.jobs = jobs;
      await engine.processBatch(words, sink);
    }
    running = false;
  };

  const app = uws.App();
  app.post('/openrtb2/bid', (res, req) => {
    const declared = Number(req.getHeader('content-length'));
    const offset = slab.alloc(declared);
    const job: Pending = { res, arrivedAt: monoNowMs(), receivedAt: 0, offset, length: declared, aborted: false, flags: 0 };
    if (!(declared >= 0) || offset < 0) {
      if (offset >= 0) slab.free(offset);
      res.writeStatus('503 Service Unavailable').end();
      return;
    }
    res.onAborted(() => {
      job.aborted = true;
    });
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
