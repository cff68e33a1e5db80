/**
 * Peer for comparison: one uWebSockets.js event loop that parses, decides and scores
 * every request inline (the same BidEngine and model as the bidder's workers), with no
 * pool. If the bidder's thread layout does not beat this, it does not earn its keep.
 *
 *   node dist/bench/peers/inline-server.js   (BIDDER_PORT, BIDDER_MODEL as for the bidder)
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/config';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import { parseCampaigns } from '../../src/decisioning/campaign-loader';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { kMaxSlots, SlotWriter } from '../../src/metrics/shared-metrics';
import { loadModelShared } from '../../src/models/model-bytes';
import { loadNativeUws } from '../../src/server/uws';
import { BidEngine, type ReplySink } from '../../workers/bid-engine';
import { createScorer } from '../../workers/onnx-scorer';

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
  const engine = new BidEngine(
    new CampaignIndex(parsed.campaigns),
    scorer,
    outcomes,
    new SlotWriter(layout, layout.allocate(), 0),
    new SharedArrayBuffer(8),
    {
      decision: { fxRates: config.bidding.fxRates, seatId: config.bidding.seatId },
      seatId: config.bidding.seatId,
      tmaxMarginMs: config.bidding.tmaxMarginMs,
      maxBodyBytes: config.server.maxBodyBytes,
      testHooks: false,
      idPrefix: 'inline-',
    },
  );
  class Answer implements ReplySink {
    status = 0;
    body: string | null = null;
    add(_id: number, status: number, _outcome: number, body: string | null): void {
      this.status = status;
      this.body = body;
    }
  }
  // The engine handles one request at a time; requests that overlap at session.run wait.
  let tail: Promise<unknown> = Promise.resolve();
  const app = uws.App();
  app.post('/openrtb2/bid', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const chunks: Buffer[] = [];
    res.onData((chunk, isLast) => {
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      const text = Buffer.concat(chunks).toString('utf8');
      const answer = new Answer();
      const run = tail.then(() => engine.processText(text, answer));
      tail = run.catch(() => undefined);
      run.then(() => {
        if (aborted) return;
        const s = answer.status;
        const b = answer.body;
        res.cork(() => {
          if (s === 204) res.writeStatus('204 No Content').endWithoutBody();
          else res.writeStatus(s === 200 ? '200 OK' : `${s} Error`).writeHeader('content-type', 'application/json').end(b ?? '');
        });
      });
    });
  });
  app.listen(config.server.host, config.server.port, (socket) => {
    if (!socket) throw new Error('cannot listen');
    process.stdout.write(`inline peer listening on ${config.server.port}\n`);
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
