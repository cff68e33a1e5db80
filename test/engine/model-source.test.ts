/**
 * The bid engine and its models, with stub scorers (each predicts its own constant CTR, so
 * a price says which model scored it): a batch is scored wholly by the settings it began
 * with even when the control block changes under it; the next batch takes the new ones;
 * a batch whose requests belong to different arms scores each request with its arm's
 * model; a canary takes its share by request id; a failing model's requests are 204
 * worker_failed while the rest of the batch bids; shading arms shade only first-price,
 * non-deal bids, never under the floor.
 */
import t from 'tap';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import { ALL_ERROR_CODES } from '../../src/errors';
import { CAT_WIDTH, NUM_WIDTH } from '../../src/features/feature-encoder';
import { buildMetricsLayout, M, OutcomeTable } from '../../src/metrics/definitions';
import { SlotReader, SlotWriter } from '../../src/metrics/shared-metrics';
import { BidEngine } from '../../src/engine/bid-engine';
import type { ModelSource } from '../../src/engine/engine-control';
import type { Scorer } from '../../src/engine/onnx-scorer';
import { emptySettings, type ModelSettings } from '../../src/models/model-control';
import { ArmAssigner, ArmSlots, compileExperiments } from '../../src/experiments/experiment-table';
import { bucketOf } from '../../src/experiments/bucketing';
import { writeTask, type TaskRequest } from '../../src/codec/request-batch';
import { allocateWinRateTable, WinRateTable } from '../../src/strategy/win-rate-table';
import { bannerCreative, campaign } from '../decisioning/fixtures/builders';

const kRows = 64;

function stub(ctr: number, onScore?: () => void, fail = false): Scorer & { runs: number } {
  const s = {
    runs: 0,
    maxRows: kRows,
    cat: new Int32Array(kRows * CAT_WIDTH),
    num: new Float32Array(kRows * NUM_WIDTH),
    score: async (_c: Int32Array, _n: Float32Array, rows: number) => {
      s.runs++;
      onScore?.();
      if (fail) throw new Error('model failed');
      return new Float32Array(rows).fill(ctr);
    },
    warm: async () => {},
    release: async () => {},
  };
  return s;
}

/** A model source over fixed scorers whose settings the test changes at will. */
class TestModels implements ModelSource {
  settings: ModelSettings = emptySettings();
  assigner: ArmAssigner | null = null;
  began: number[] = [];
  constructor(private readonly scorers: Scorer[]) {}
  begin(): ModelSettings {
    this.began.push(this.settings.active);
    return { ...this.settings };
  }
  end(): void {}
  scorer(slot: number): Scorer | undefined {
    return this.scorers[slot];
  }
  label(slot: number): string {
    return `m${slot}@1`;
  }
}

const outcomes = new OutcomeTable(ALL_ERROR_CODES);
const layout = buildMetricsLayout(outcomes, 4);
// A CPC campaign: price = CTR x 1 USD x 1000, so CTR 0.001 bids 1.0 and 0.002 bids 2.0.
const cpc = campaign({ id: 'c1', goal: { type: 'CPC', cpcUsd: 1 }, maxCpmUsd: 100, creatives: [bannerCreative(300, 250, { id: 'cr1' })] });

function engineOver(models: ModelSource, winRates?: SharedArrayBuffer) {
  const buffer = layout.allocate();
  const metrics = new SlotWriter(layout, buffer, 0);
  const slab = new SharedArrayBuffer(1 << 20);
  const engine = new BidEngine(new CampaignIndex([cpc]), models, outcomes, metrics, slab, {
    decision: { fxRates: {}, seatId: 'us' }, seatId: 'us', tmaxMarginMs: 0, maxBodyBytes: 1 << 20, testHooks: false, idPrefix: 't-', winRates,
  });
  const reader = new SlotReader(layout, buffer);
  /** Runs one batch of `reqs`; the answers' prices (0 for a no-bid) and statuses. */
  const batch = async (reqs: object[]) => {
    const view = Buffer.from(slab);
    const list: TaskRequest[] = [];
    let at = 0;
    for (const r of reqs) {
      const n = view.write(JSON.stringify(r), at, 'utf8');
      list.push({ arrivedAt: 0, receivedAt: 0, offset: at, length: n, flags: 0 });
      at += n;
    }
    const got: { status: number; price: number }[] = [];
    await engine.processBatch(writeTask(list, 0), {
      add: (i, status, _o, body) => {
        // Rounded to cents: a float32 CTR times 1,000 lands a tick above (0.001 → 1.0001).
        got[i] = { status, price: status === 200 ? Math.round((JSON.parse(body!) as { seatbid: { bid: { price: number }[] }[] }).seatbid[0].bid[0].price * 100) / 100 : 0 };
      },
    });
    return got;
  };
  return { batch, reader, engine };
}

const req = (id: string, user = `user-${id}`, over: object = {}) => ({
  id, at: 2, imp: [{ id: '1', banner: { w: 300, h: 250 } }], site: { id: 's', publisher: { id: 'p1' } }, user: { id: user }, ...over,
});

t.test('a batch keeps the settings it began with; the next batch takes the new ones', async (t) => {
  let models!: TestModels;
  // The switch lands while the first batch is in session.run.
  const a = stub(0.001, () => {
    models.settings = { ...models.settings, generation: 2, active: 1 };
  });
  const b = stub(0.002);
  models = new TestModels([a, b]);
  const e = engineOver(models);
  const first = await e.batch([req('1'), req('2'), req('3')]);
  t.same(first.map((x) => x.price), [1, 1, 1], 'every request of the batch priced by the model it began with');
  const second = await e.batch([req('4'), req('5')]);
  t.same(second.map((x) => x.price), [2, 2], 'the next batch by the new active model');
  t.same(models.began, [0, 1]);
});

t.test('a batch of several arms scores each request with its arm\'s model, one run per model', async (t) => {
  const a = stub(0.001);
  const b = stub(0.003);
  const models = new TestModels([a, b]);
  const file = { experiments: [{ id: 'e', salt: 'x', unit: 'user' as const, arms: [{ id: 'A', weight: 1, model: null, strategy: null }, { id: 'B', weight: 1, model: 'm1', strategy: null }] }] };
  const compiled = compileExperiments(file, 1, (ref) => (ref === 'm1' ? 1 : -1), new ArmSlots());
  if (!compiled.ok) throw new Error(compiled.errors.join());
  models.assigner = new ArmAssigner(compiled.snapshot);
  const e = engineOver(models);
  const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
  const got = await e.batch(users.map((u, i) => req(String(i), u)));
  got.forEach((g, i) => t.equal(g.price, bucketOf('x', users[i]) < 5_000 ? 1 : 3, `user ${users[i]}`));
  t.equal(a.runs, 1, 'one run of the active model');
  t.equal(b.runs, 1, 'one run of the arm\'s model');
  const at = (name: string, slot: number) => e.reader.sum(layout.offset(name, [String(slot)]));
  t.equal(at(M.armRequests, 0) + at(M.armRequests, 1), 12, 'each request counted in its arm');
});

t.test('the canary takes its share of requests by request id', async (t) => {
  const models = new TestModels([stub(0.001), stub(0.002)]);
  models.settings = { ...emptySettings(), canary: 1, canaryBasisPoints: 2_500 };
  const e = engineOver(models);
  const ids = Array.from({ length: 40 }, (_, i) => `c-${i}`);
  const got = await e.batch(ids.map((id) => req(id)));
  const onCanary = got.filter((g) => g.price === 2).length;
  t.ok(onCanary > 0 && onCanary < 40, `${onCanary} of 40 on the canary`);
});

t.test('a model that fails answers its requests 204 worker_failed and counts the error; the others bid', async (t) => {
  const models = new TestModels([stub(0.001), stub(0.002, undefined, true)]);
  const file = { experiments: [{ id: 'e', salt: 'x', unit: 'user' as const, arms: [{ id: 'A', weight: 1, model: null, strategy: null }, { id: 'B', weight: 1, model: 'm1', strategy: null }] }] };
  const compiled = compileExperiments(file, 1, (ref) => (ref === 'm1' ? 1 : -1), new ArmSlots());
  if (!compiled.ok) throw new Error(compiled.errors.join());
  models.assigner = new ArmAssigner(compiled.snapshot);
  const e = engineOver(models);
  const users = Array.from({ length: 10 }, (_, i) => `u${i}`);
  const got = await e.batch(users.map((u, i) => req(String(i), u)));
  got.forEach((g, i) => t.equal(g.status, bucketOf('x', users[i]) < 5_000 ? 200 : 204));
  t.equal(e.reader.sum(layout.offset(M.modelErrors, ['1'])), 1);
});

t.test('a shading arm shades first-price bids to the optimum, never a second-price one or under the floor', async (t) => {
  const table = allocateWinRateTable(64);
  const w = new WinRateTable(table);
  // Competition around 1 CPM: P(win | b) = sigmoid(4 ln b).
  w.publishGlobal(0, 4, 1_000);
  w.endSnapshot();
  const models = new TestModels([stub(0.003)]);
  const file = { experiments: [{ id: 'e', salt: 'x', unit: 'user' as const, arms: [{ id: 'S', weight: 1, model: null, strategy: { shading: { maxShade: 0.5, minObservations: 10 } } }] }] };
  const compiled = compileExperiments(file, 1, () => -1, new ArmSlots());
  if (!compiled.ok) throw new Error(compiled.errors.join());
  models.assigner = new ArmAssigner(compiled.snapshot);
  const e = engineOver(models, table);
  const [first, second, floored] = await e.batch([
    req('fp', 'u', { at: 1 }),
    req('sp', 'u', { at: 2 }),
    req('fl', 'u', { at: 1, imp: [{ id: '1', bidfloor: 2.9, banner: { w: 300, h: 250 } }] }),
  ]);
  // Value 3: the optimum of (3 - b) / (1 + b^-4) is about 1.8 (well inside maxShade 0.5).
  t.ok(first.price < 3 && first.price >= 1.5, `first price shaded: ${first.price}`);
  t.equal(second.price, 3, 'second price bid at value');
  t.ok(floored.price >= 2.9 && floored.price <= 3, `never under the floor: ${floored.price}`);
  t.equal(e.reader.sum(layout.offset(M.shading, ['not_first_price'])), 1);
  t.ok(e.reader.sum(layout.offset(M.shading, ['shaded'])) >= 1);
});
