import t from 'tap';
import {
  CONFLICTING_NATIVE,
  kAssetData,
  kAssetImg,
  kAssetTitle,
  kAssetUnknown,
  kAssetVideo,
  nativeRequestOf,
  readNativeRequest,
  UNREADABLE_NATIVE,
} from '../../src/openrtb/native-request';
import type { Imp } from '../../src/openrtb/types';

t.test('reads assets: kind, id, required, type, len and image constraints', async (t) => {
  const spec = readNativeRequest(JSON.stringify({
    ver: '1.2',
    assets: [
      { id: 0, required: 1, title: { len: 90 } },
      { id: 2, img: { type: 3, wmin: 492, hmin: 328 } },
      { id: 3, required: 0, img: { type: 1, w: 80, h: 80 } },
      { id: 4, data: { type: 2, len: 140 } },
      { id: 5, required: 1, video: { mimes: ['video/mp4'] } },
      { id: 6, required: 1 },
    ],
  }), undefined);
  t.same(spec.assets, [
    { id: 0, required: true, kind: kAssetTitle, type: 0, len: 90, w: 0, h: 0, wmin: 0, hmin: 0 },
    { id: 2, required: false, kind: kAssetImg, type: 3, len: 0, w: 0, h: 0, wmin: 492, hmin: 328 },
    { id: 3, required: false, kind: kAssetImg, type: 1, len: 0, w: 80, h: 80, wmin: 0, hmin: 0 },
    { id: 4, required: false, kind: kAssetData, type: 2, len: 140, w: 0, h: 0, wmin: 0, hmin: 0 },
    { id: 5, required: true, kind: kAssetVideo, type: 0, len: 0, w: 0, h: 0, wmin: 0, hmin: 0 },
    { id: 6, required: true, kind: kAssetUnknown, type: 0, len: 0, w: 0, h: 0, wmin: 0, hmin: 0 },
  ]);
  t.equal(spec.legacy, false);
  t.equal(spec.eventTrackers, false);
});

t.test('values that are not what the spec types read as "not given"', async (t) => {
  const spec = readNativeRequest(JSON.stringify({
    assets: [
      { id: '1', required: true, title: { len: '90' } },
      { id: 1.5, img: { type: 3, w: -1, h: 0, wmin: 10.5 } },
      { required: 1, data: { type: 2 } },
    ],
  }), undefined);
  t.same(spec.assets!.map((a) => [a.id, a.required, a.len, a.w, a.h, a.wmin]), [
    [-1, false, 0, 0, 0, 0],
    [-1, false, 0, 0, 0, 0],
    [-1, true, 0, 0, 0, 0],
  ], 'id must be a non-negative integer, required must be 1');
});

t.test('unreadable requests share one constant answer', async (t) => {
  for (const raw of ['', 'test-native', '{json string}', '[]', '{}', '{"ver":"1.2"}', '{"assets":[]}', '{"assets":["x"]}', undefined, 7]) {
    const spec = readNativeRequest(raw, undefined);
    t.equal(spec.assets, null, JSON.stringify(raw));
    if (typeof raw !== 'string' || !raw.startsWith('{') || raw === '{json string}') t.equal(spec, UNREADABLE_NATIVE, `${JSON.stringify(raw)}: no allocation`);
  }
});

t.test('shape of the answer: 1.2 root unless a wrapped request declares 1.0/1.1 (or nothing)', async (t) => {
  const assets = [{ id: 1, required: 1, title: { len: 25 } }];
  const cases: [string, string | undefined, boolean, string][] = [
    [JSON.stringify({ ver: '1.2', assets }), undefined, false, 'bare 1.2'],
    [JSON.stringify({ ver: '1.1', assets }), undefined, false, 'bare 1.1: the 1.1 root shape is the 1.2 one'],
    [JSON.stringify({ native: { ver: '1.0', assets } }), undefined, true, 'wrapped 1.0'],
    [JSON.stringify({ native: { ver: '1.1', assets } }), undefined, true, 'wrapped 1.1'],
    [JSON.stringify({ native: { assets } }), undefined, true, 'wrapped, no version: 1.0 is the only wrapped one'],
    [JSON.stringify({ native: { assets } }), '1.2', false, 'wrapped, imp.native.ver says 1.2'],
    [JSON.stringify({ native: { ver: '1.2', assets } }), undefined, false, 'wrapped but declaring 1.2'],
  ];
  for (const [raw, impVer, legacy, label] of cases) {
    const spec = readNativeRequest(raw, impVer);
    t.equal(spec.legacy, legacy, label);
    t.equal(spec.assets?.length, 1, `${label}: assets read through the wrapper`);
  }
  t.equal(readNativeRequest(JSON.stringify({ native: { ver: '1.1', assets } }), undefined).legacyVer, '1.1');
  t.equal(readNativeRequest(JSON.stringify({ native: { assets } }), undefined).legacyVer, '1.0');
});

t.test('eventtrackers: listed or not, and whether impression by image pixel is among them', async (t) => {
  const read = (eventtrackers: unknown) => readNativeRequest(JSON.stringify({ assets: [{ id: 1, title: {} }], eventtrackers }), undefined);
  t.same([read(undefined).eventTrackers, read(undefined).impressionPixel], [false, false]);
  t.same([read([]).eventTrackers, read([]).impressionPixel], [false, false], 'an empty list lists nothing');
  t.same([read([{ event: 1, methods: [1, 2] }]).eventTrackers, read([{ event: 1, methods: [1, 2] }]).impressionPixel], [true, true]);
  t.same([read([{ event: 1, methods: [2] }]).eventTrackers, read([{ event: 1, methods: [2] }]).impressionPixel], [true, false], 'js only');
  t.same([read([{ event: 2, methods: [1] }]).eventTrackers, read([{ event: 2, methods: [1] }]).impressionPixel], [true, false], 'viewability only');
});

t.test('nativeRequestOf parses once per imp object', async (t) => {
  let parses = 0;
  const request = JSON.stringify({ assets: [{ id: 1, title: { len: 10 } }] });
  const native = {
    get request() {
      parses++;
      return request;
    },
  };
  const imp = { id: '1', native } as unknown as Imp;
  const a = nativeRequestOf(imp);
  const b = nativeRequestOf(imp);
  t.equal(a, b, 'the same object');
  t.equal(parses, 1, 'request read once');
  t.not(nativeRequestOf({ id: '2', native: { request } }), a, 'another imp gets its own');
  t.equal(nativeRequestOf({ id: '3' }), UNREADABLE_NATIVE);
});

t.test('assets that share an id make the request unanswerable (Native 1.2 4.2: unique asset ids)', async (t) => {
  const dup = readNativeRequest(JSON.stringify({ ver: '1.2', assets: [{ id: 1, img: { type: 3 } }, { id: 1, title: { len: 90 } }] }), undefined);
  t.equal(dup, CONFLICTING_NATIVE, 'duplicate ids');
  const unique = readNativeRequest(JSON.stringify({ ver: '1.2', assets: [{ id: 1, img: { type: 3 } }, { id: 2, title: { len: 90 } }] }), undefined);
  t.not(unique, CONFLICTING_NATIVE, 'distinct ids are read as usual');
  t.equal(unique.assets?.length, 2);
  // Assets without a usable id are not ids: two of them do not conflict.
  const noIds = readNativeRequest(JSON.stringify({ ver: '1.2', assets: [{ img: { type: 3 } }, { title: { len: 90 } }] }), undefined);
  t.not(noIds, CONFLICTING_NATIVE);
});
