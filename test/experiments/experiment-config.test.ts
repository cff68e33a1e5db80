/**
 * The experiments file: the documented example parses; every error is collected with its
 * path; an arm with no model and no strategy compiles as the control; a model that is not
 * loaded refuses the compile; arm labels keep their metric slots across compiles.
 */
import t from 'tap';
import { parseExperiments } from '../../src/experiments/experiment-config';
import { ArmSlots, compileExperiments, kMaxArmSlots } from '../../src/experiments/experiment-table';

const example = {
  experiments: [{ id: 'e1', salt: 's', unit: 'user', arms: [{ id: 'A', weight: 50 }, { id: 'B', weight: 50, model: 'ctr-mlp', strategy: {} }] }],
};

t.test('the documented example parses and compiles; A is the control', async (t) => {
  const p = parseExperiments(example);
  if (!p.ok) return t.fail(p.errors.join('; '));
  const c = compileExperiments(p.file, 1, (ref) => (ref === 'ctr-mlp' ? 3 : -1), new ArmSlots());
  if (!c.ok) return t.fail(c.errors.join('; '));
  const [a, b] = c.snapshot.experiments[0].arms;
  t.match(a, { label: 'e1:A', control: true, modelSlot: -1, upTo: 5_000 });
  t.match(b, { label: 'e1:B', control: false, modelSlot: 3, upTo: 10_000 });
  t.same(c.snapshot.labels.map((l) => `${l.experiment}:${l.arm}`), ['e1:A', 'e1:B']);
});

t.test('every error is listed with its path', async (t) => {
  const p = parseExperiments({
    experiments: [
      { id: 'bad id', salt: '', unit: 'session', arms: [{ id: 'A', weight: -1, extra: 1 }, { id: 'A', weight: 'x', model: 7, strategy: { shading: { maxShade: 2 } } }] },
      { id: 'e2', salt: 's', arms: [] },
      { id: 'e2', salt: 's', arms: [{ id: 'Z', weight: 0 }] },
    ],
    other: true,
  });
  t.notOk(p.ok);
  if (p.ok) return;
  const want = [
    '$.other: unknown key',
    'experiments[0].id:',
    'experiments[0].salt:',
    'experiments[0].unit:',
    'experiments[0].arms[0].extra: unknown key',
    'experiments[0].arms[0].weight:',
    'experiments[0].arms[1].id: duplicate arm A',
    'experiments[0].arms[1].weight:',
    'experiments[0].arms[1].model:',
    'experiments[0].arms[1].strategy.shading.maxShade:',
    'experiments[1].arms: must be a non-empty array',
    'experiments[2].id: duplicate experiment e2',
    'experiments[2].arms: weights must add up to more than 0',
  ];
  for (const w of want) t.ok(p.errors.some((e) => e.startsWith(w)), w);
});

t.test('a model that is not loaded refuses the compile; labels keep their slots', async (t) => {
  const p = parseExperiments(example);
  if (!p.ok) return t.fail('parse');
  const slots = new ArmSlots();
  const missing = compileExperiments(p.file, 1, () => -1, slots);
  t.notOk(missing.ok);
  if (!missing.ok) t.match(missing.errors[0], /ctr-mlp is not loaded/);
  const again = compileExperiments({ experiments: [{ id: 'e0', salt: 'x', unit: 'user', arms: [{ id: 'A', weight: 1, model: null, strategy: null }] }, p.file.experiments[0]] }, 2, () => 1, slots);
  if (!again.ok) return t.fail(again.errors.join());
  t.equal(again.snapshot.experiments[1].arms[0].metricSlot, 0, 'e1:A keeps slot 0');
  t.equal(again.snapshot.experiments[0].arms[0].metricSlot, 2, 'a new label takes the next slot');
  const full = new ArmSlots();
  for (let i = 0; i < kMaxArmSlots; i++) full.slotOf('e', `a${i}`);
  t.equal(full.slotOf('e', 'one-more'), -1, 'bounded');
});
