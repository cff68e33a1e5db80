/**
 * An arm's shading parameters (src/strategy/shading-params.ts): defaults, every error
 * collected with its code and path, nothing thrown.
 */
import t from 'tap';
import { kDefaultShadingParams, parseShadingParams, ShadingErrorCode } from '../../src/strategy/shading-params';

t.test('valid: values, defaults, and no shading', async (t) => {
  t.same(parseShadingParams({ shading: { maxShade: 0.3, minObservations: 500 } }), { ok: true, params: { maxShade: 0.3, minObservations: 500 } });
  t.same(parseShadingParams({ shading: {} }), { ok: true, params: kDefaultShadingParams }, 'fields left out take the defaults');
  t.same(parseShadingParams({ shading: { maxShade: 0 } }), { ok: true, params: { maxShade: 0, minObservations: 100 } }, 'maxShade 0 is allowed (never shades)');
  t.same(parseShadingParams({}), { ok: true, params: null }, 'no shading key: the arm does not shade');
  t.same(parseShadingParams({ shading: null }), { ok: true, params: null });
  t.same(parseShadingParams(undefined), { ok: true, params: null });
  t.same(parseShadingParams({ pacing: { x: 1 } }), { ok: true, params: null }, 'other strategy keys are not ours to judge');
  const parsed = parseShadingParams({ shading: {} });
  if (parsed.ok && parsed.params !== null) {
    parsed.params.maxShade = 0.9;
    t.equal(kDefaultShadingParams.maxShade, 0.4, 'the defaults are not shared with the result');
  }
});

t.test('invalid: every error, with its code and path', async (t) => {
  const r = parseShadingParams({ shading: { maxShade: 1.5, minObservations: 2.5, maxshade: 0.2 } }, 'experiments[0].arms[1].strategy');
  t.notOk(r.ok);
  if (r.ok) return;
  t.same(
    r.errors.map((e) => [e.code, e.path]),
    [
      [ShadingErrorCode.OutOfRange, 'experiments[0].arms[1].strategy.shading.maxShade'],
      [ShadingErrorCode.OutOfRange, 'experiments[0].arms[1].strategy.shading.minObservations'],
      [ShadingErrorCode.UnknownField, 'experiments[0].arms[1].strategy.shading.maxshade'],
    ],
  );
  t.ok(r.errors.every((e) => e.message.startsWith(e.path + ': ')), 'each message starts with its path');

  const cases: [unknown, string, string][] = [
    [{ shading: { maxShade: '0.4' } }, ShadingErrorCode.WrongType, 'strategy.shading.maxShade'],
    [{ shading: { maxShade: -0.1 } }, ShadingErrorCode.OutOfRange, 'strategy.shading.maxShade'],
    [{ shading: { maxShade: Number.NaN } }, ShadingErrorCode.OutOfRange, 'strategy.shading.maxShade'],
    [{ shading: { minObservations: true } }, ShadingErrorCode.WrongType, 'strategy.shading.minObservations'],
    [{ shading: { minObservations: -1 } }, ShadingErrorCode.OutOfRange, 'strategy.shading.minObservations'],
    [{ shading: 0.4 }, ShadingErrorCode.NotObject, 'strategy.shading'],
    [{ shading: [] }, ShadingErrorCode.NotObject, 'strategy.shading'],
    ['shade', ShadingErrorCode.NotObject, 'strategy'],
  ];
  for (const [input, code, path] of cases) {
    const got = parseShadingParams(input);
    t.same(got.ok ? [] : got.errors.map((e) => [e.code, e.path]), [[code, path]], JSON.stringify(input) ?? String(input));
  }
});
