/**
 * The engine's cost per request on one batch, as the bidder runs it (the inline lane and a
 * pool worker alike): N copies of a request body in a shared receive slab, a task written
 * with writeTask, BidEngine.processBatch into a ReplyWriter, and the BatchReply finished
 * (src/pool/inline-lane.ts). The figure is ns per request (perCall = N): what is left once
 * the per-batch costs (one session.run, the clock reads, the reply's copy) are shared by
 * the batch. With the small ONNX model at 1, 8, 32 and 64 requests, and with a stub scorer
 * at 32 so the JavaScript share can be told from the model's.
 */
import { ALL_ERROR_CODES } from '../../src/errors';
import { readBatchReply, ReplyWriter } from '../../src/codec/reply-batch';
import { writeTask, type TaskRequest } from '../../src/codec/request-batch';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { kMaxSlots, SlotWriter } from '../../src/metrics/shared-metrics';
import { BidEngine } from '../../src/engine/bid-engine';
import type { Scorer } from '../../src/engine/onnx-scorer';
import { monoNowMs } from '../../src/util/clock';
import { campaignIndex, ENGINE_OPTIONS, requestFixture, type RequestKind } from './fixtures';
import type { MicroCase } from './micro-case';
import { loadScorer } from './scorer-fixture';
import { StubScorer } from './stub-scorer';

/** The bodies laid out back to back in a slab, and the task naming them. */
function slabTask(text: string, n: number): { slab: SharedArrayBuffer; task: Float64Array } {
  const body = Buffer.from(text, 'utf8');
  const slab = new SharedArrayBuffer(Math.max(1024, body.length * n));
  const view = Buffer.from(slab);
  const requests: TaskRequest[] = [];
  // No tmax in the spec samples: arrival time only has to be plausible.
  const now = monoNowMs();
  for (let i = 0; i < n; i++) {
    body.copy(view, i * body.length);
    requests.push({ arrivedAt: now, receivedAt: now, offset: i * body.length, length: body.length, flags: 0 });
  }
  return { slab, task: writeTask(requests, now) };
}

function batchCase(kind: RequestKind, n: number, scorerName: string, makeScorer: () => Promise<Scorer>): MicroCase {
  const { label, text } = requestFixture(kind);
  let scorer: Scorer | undefined;
  let engine!: BidEngine;
  let task!: Float64Array;
  const writer = new ReplyWriter();
  const run = async (): Promise<ArrayBuffer> => {
    writer.begin();
    await engine.processBatch(task, writer);
    return writer.finish(0, 0, 0);
  };
  return {
    name: `processBatch ${label} x${n} (${scorerName}), per request`,
    async: true,
    perCall: n,
    async setup() {
      scorer = await makeScorer();
      const laid = slabTask(text, n);
      task = laid.task;
      const outcomes = new OutcomeTable(ALL_ERROR_CODES);
      const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
      const metrics = new SlotWriter(layout, layout.allocate(), 1);
      engine = new BidEngine(campaignIndex(), scorer, outcomes, metrics, laid.slab, ENGINE_OPTIONS);
      const reply = readBatchReply(await run());
      if (reply.repliesLength() !== n) throw new Error(`${label}: ${reply.repliesLength()} replies for ${n} requests`);
      for (let i = 0; i < n; i++) {
        const status = reply.replies(i)!.status();
        if (status !== 200) throw new Error(`${label}: request ${i} answered ${status}, the case measures bids`);
      }
    },
    fn: run,
    async teardown() {
      await scorer?.release();
      scorer = undefined;
    },
  };
}

const logreg = (): Promise<Scorer> => loadScorer('ctr-logreg');
const stub = async (): Promise<Scorer> => new StubScorer();

export const cases: MicroCase[] = [
  batchCase('site', 1, 'ctr-logreg', logreg),
  batchCase('site', 8, 'ctr-logreg', logreg),
  batchCase('site', 32, 'ctr-logreg', logreg),
  batchCase('site', 64, 'ctr-logreg', logreg),
  batchCase('site', 32, 'stub scorer', stub),
];
