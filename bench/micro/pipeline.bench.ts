/**
 * The whole bid path of one request inside a worker (BidEngine.processText: parse,
 * validate, context, candidates, features, score, price, response JSON), as the sum the
 * per-function cases should roughly add up to: once with a stub scorer (no model, a fixed
 * CTR) and once with the small ONNX model.
 */
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { kMaxSlots, SlotWriter } from '../../src/metrics/shared-metrics';
import { BidEngine, type ReplySink } from '../../src/engine/bid-engine';
import type { Scorer } from '../../src/engine/onnx-scorer';
import { campaignIndex, ENGINE_OPTIONS, requestFixture, type RequestKind } from './fixtures';
import type { MicroCase } from './micro-case';
import { loadScorer } from './scorer-fixture';
import { StubScorer } from './stub-scorer';

/** Keeps the last answer, so the work of building it is observable. */
class LastReply implements ReplySink {
  status = 0;
  body: string | null = null;
  add(_requestId: number, status: number, _outcome: number, body: string | null): void {
    this.status = status;
    this.body = body;
  }
}

function engineFor(scorer: Scorer): BidEngine {
  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  const metrics = new SlotWriter(layout, layout.allocate(), 1);
  return new BidEngine(campaignIndex(), scorer, outcomes, metrics, new SharedArrayBuffer(1024), ENGINE_OPTIONS);
}

function pipelineCase(kind: RequestKind, scorerName: string, makeScorer: () => Promise<Scorer>): MicroCase {
  const { label, text } = requestFixture(kind);
  let scorer: Scorer | undefined;
  let engine!: BidEngine;
  const reply = new LastReply();
  return {
    name: `processText ${label} (${scorerName})`,
    async: true,
    async setup() {
      scorer = await makeScorer();
      engine = engineFor(scorer);
      await engine.processText(text, reply);
      if (reply.status !== 200 && reply.status !== 204) throw new Error(`${label}: status ${reply.status} ${reply.body ?? ''}`);
    },
    async fn() {
      await engine.processText(text, reply);
      return reply.body;
    },
    async teardown() {
      await scorer?.release();
      scorer = undefined;
    },
  };
}

const stub = async (): Promise<Scorer> => new StubScorer();

export const cases: MicroCase[] = [
  pipelineCase('site', 'stub scorer', stub),
  pipelineCase('app', 'stub scorer', stub),
  pipelineCase('site', 'ctr-logreg', () => loadScorer('ctr-logreg')),
];
