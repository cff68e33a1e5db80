import t from 'tap';
import {
  CAT_WIDTH,
  FEATURE_SPEC,
  NUM_WIDTH,
  TOTAL_BUCKETS,
  canonicalJson,
  featureSpecDigest,
  featureSpecDigestOf,
  type FeatureSpec,
} from '../../src/features/feature-spec';

t.test('digest is stable and independent of key order', async (t) => {
  const d = featureSpecDigest();
  t.match(d, /^[0-9a-f]{64}$/);
  t.equal(featureSpecDigest(), d);
  const clone = JSON.parse(JSON.stringify(FEATURE_SPEC)) as Record<string, unknown>;
  const reordered = Object.fromEntries(Object.entries(clone).reverse()) as unknown as FeatureSpec;
  t.equal(featureSpecDigestOf(reordered), d);
});

t.test('digest changes when the spec changes', async (t) => {
  const clone = JSON.parse(JSON.stringify(FEATURE_SPEC)) as { categorical: { buckets: number }[] };
  clone.categorical[0]!.buckets *= 2;
  t.not(featureSpecDigestOf(clone as unknown as FeatureSpec), featureSpecDigest());
});

t.test('fields tile the index space without overlap', async (t) => {
  let next = 0;
  for (const f of FEATURE_SPEC.categorical) {
    t.equal(f.offset, next, `${f.name} starts where the previous field ends`);
    t.ok(f.buckets > 0 && (f.buckets & (f.buckets - 1)) === 0, `${f.name} bucket count is a power of two`);
    next += f.buckets;
  }
  t.equal(next, TOTAL_BUCKETS);
  t.equal(CAT_WIDTH, FEATURE_SPEC.categorical.length);
  t.equal(NUM_WIDTH, FEATURE_SPEC.numeric.length);
  const names = [...FEATURE_SPEC.categorical, ...FEATURE_SPEC.numeric].map((f) => f.name);
  t.equal(new Set(names).size, names.length, 'field names are unique');
});

t.test('spec is frozen', async (t) => {
  t.ok(Object.isFrozen(FEATURE_SPEC));
  t.ok(Object.isFrozen(FEATURE_SPEC.categorical[0]));
});

t.test('canonicalJson sorts keys and drops undefined', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x' }] }), '{"a":[1,{"c":"x"}],"b":1}');
});
