/**
 * The bid path over real HTTP: one bidder (real uWS front end, real piscina pool, real
 * ONNX model) answers bids, no-bids, every class of bad request, body-size and encoding
 * limits, the operational routes, and hostile bodies, and keeps serving afterwards.
 */
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { checkResponseForRequest } from '../../src/openrtb/response-check';
import type { BidRequest } from '../../src/openrtb/types';
import {
  postBid,
  rawExchange,
  sampleValue,
  scrape,
  send,
  startTestBidder,
  type HttpResult,
  type TapTest as Tap,
  type TestBidder,
} from '../helpers/test-bidder';
import { SIMPLE_BANNER } from '../helpers/requests';

t.setTimeout(60_000);

const SIMPLE_BANNER_TEXT = JSON.stringify(SIMPLE_BANNER);

/** No campaign has a 1x1 creative. */
const ONE_BY_ONE = { ...SIMPLE_BANNER, id: 'nobid-1', imp: [{ id: '1', banner: { w: 1, h: 1 } }] };

const MAX_BODY = 256 * 1024;

let b: TestBidder;
t.before(async () => {
  b = await startTestBidder({ testHooks: false, server: { maxBodyBytes: MAX_BODY } });
});
t.teardown(() => b?.close());

function errorOf(t: Tap, r: HttpResult): { code?: string; message?: string; field?: string } {
  t.match(String(r.headers['content-type']), /application\/json/, 'error body is JSON');
  try {
    const e = JSON.parse(r.body) as { code?: string; message?: string; field?: string };
    t.type(e.code, 'string', 'error has a code');
    t.type(e.message, 'string', 'error has a message');
    return e;
  } catch {
    t.fail(`error body is not JSON: ${r.body.slice(0, 200)}`);
    return {};
  }
}

async function assertStillBids(t: Tap, why: string): Promise<void> {
  const r = await postBid(b.port, SIMPLE_BANNER_TEXT);
  t.equal(r.status, 200, `still bids after ${why}`);
}

t.test('bid on a simple 300x250 banner', async (t) => {
  const r = await postBid(b.port, SIMPLE_BANNER_TEXT);
  t.equal(r.status, 200, 'status 200');
  t.match(String(r.headers['content-type']), /^application\/json/, 'content-type json');
  t.equal(r.headers['x-openrtb-version'], '2.6', 'x-openrtb-version header');
  const res = JSON.parse(r.body) as { id: string; seatbid: { bid: { impid: string; price: number }[] }[] };
  t.same(checkResponseForRequest(SIMPLE_BANNER as unknown as BidRequest, res), [], 'response conforms to the request');
  t.equal(res.id, SIMPLE_BANNER.id, 'echoes the request id');
  t.equal(res.seatbid[0].bid[0].impid, '1', 'bids on imp 1');
  t.ok(res.seatbid[0].bid[0].price >= 0.03, 'price at or above the floor');
});

t.test('under light load the front end scores requests itself (inline lane)', async (t) => {
  const before = await scrape(b.opsPort);
  const inlineBefore = sampleValue(before, 'bidder_scored_requests_total', { lane: 'inline' }) ?? 0;
  const poolBefore = sampleValue(before, 'bidder_scored_requests_total', { lane: 'pool' }) ?? 0;
  for (let i = 0; i < 5; i++) t.equal((await postBid(b.port, SIMPLE_BANNER_TEXT)).status, 200);
  const after = await scrape(b.opsPort);
  const inline = (sampleValue(after, 'bidder_scored_requests_total', { lane: 'inline' }) ?? 0) - inlineBefore;
  const pool = (sampleValue(after, 'bidder_scored_requests_total', { lane: 'pool' }) ?? 0) - poolBefore;
  t.equal(inline + pool, 5, 'each request scored once');
  t.ok(inline >= 4, `one at a time, they stay on the front end (${inline} inline, ${pool} pool)`);
});

t.test('no-bid when no campaign fits (1x1 banner)', async (t) => {
  const r = await postBid(b.port, JSON.stringify(ONE_BY_ONE));
  t.equal(r.status, 204, 'status 204');
  t.equal(r.body, '', 'empty body');
  t.ok(r.headers['content-length'] === undefined || r.headers['content-length'] === '0', 'no body length');
  t.equal(r.headers['x-openrtb-version'], undefined, 'no openrtb header on a no-bid');
});

t.test('400s carry {code, message, field}', async (t) => {
  const imp = SIMPLE_BANNER.imp[0];
  const cases: { name: string; body: string; code: string; field?: string }[] = [
    { name: 'bad JSON', body: '{"id": "x", "imp": [', code: 'BAD_JSON' },
    { name: 'missing id', body: JSON.stringify({ ...SIMPLE_BANNER, id: undefined }), code: 'MISSING_FIELD', field: 'id' },
    { name: 'empty imp', body: JSON.stringify({ ...SIMPLE_BANNER, imp: [] }), code: 'EMPTY_IMP', field: 'imp' },
    {
      name: 'duplicate imp id',
      body: JSON.stringify({ ...SIMPLE_BANNER, imp: [imp, { ...imp }] }),
      code: 'DUPLICATE_IMP_ID',
      field: 'imp[1].id',
    },
    {
      name: 'site and app',
      body: JSON.stringify({ ...SIMPLE_BANNER, app: { id: 'a1', bundle: 'com.example' } }),
      code: 'SITE_AND_APP',
    },
    { name: 'id is a number', body: JSON.stringify({ ...SIMPLE_BANNER, id: 42 }), code: 'INVALID_TYPE', field: 'id' },
    { name: 'imp is an object', body: JSON.stringify({ ...SIMPLE_BANNER, imp: imp }), code: 'INVALID_TYPE', field: 'imp' },
    { name: 'tmax is a string', body: JSON.stringify({ ...SIMPLE_BANNER, tmax: '100' }), code: 'INVALID_TYPE', field: 'tmax' },
  ];
  for (const c of cases) {
    const r = await postBid(b.port, c.body);
    t.equal(r.status, 400, `${c.name}: 400`);
    const e = errorOf(t, r);
    t.equal(e.code, c.code, `${c.name}: code`);
    if (c.field !== undefined) t.equal(e.field, c.field, `${c.name}: field`);
    else if (c.code !== 'BAD_JSON') t.type(e.field, 'string', `${c.name}: names a field`);
  }
});

t.test('gzip', async (t) => {
  const plain = await postBid(b.port, SIMPLE_BANNER_TEXT);
  const zipped = await postBid(b.port, gzipSync(SIMPLE_BANNER_TEXT), { 'content-encoding': 'gzip' });
  t.equal(zipped.status, plain.status, 'same status as plain');
  t.equal(zipped.status, 200, 'a bid');
  const strip = (s: string) => {
    // Bid ids, and the notice URLs whose tokens bind them, are fresh per answer; everything else must match.
    const o = JSON.parse(s) as { bidid?: string; seatbid: { bid: { id?: string; nurl?: string; burl?: string; lurl?: string }[] }[] };
    delete o.bidid;
    for (const sb of o.seatbid) {
      for (const bid of sb.bid) {
        delete bid.id;
        for (const k of ['nurl', 'burl', 'lurl'] as const) bid[k] = bid[k]?.replace(/\?t=[A-Za-z0-9_-]+/, '?t=');
      }
    }
    return o;
  };
  t.same(strip(zipped.body), strip(plain.body), 'same answer as plain');

  const oneByOne = await postBid(b.port, gzipSync(JSON.stringify(ONE_BY_ONE)), { 'content-encoding': 'gzip' });
  t.equal(oneByOne.status, 204, 'gzip no-bid is a 204 too');

  const corrupt = gzipSync(SIMPLE_BANNER_TEXT);
  corrupt.fill(0x55, 10, 30);
  const bad = await postBid(b.port, corrupt, { 'content-encoding': 'gzip' });
  t.equal(bad.status, 400, 'corrupt gzip: 400');
  t.equal(errorOf(t, bad).code, 'BAD_GZIP', 'corrupt gzip: BAD_GZIP');

  const notGzip = await postBid(b.port, SIMPLE_BANNER_TEXT, { 'content-encoding': 'gzip' });
  t.equal(notGzip.status, 400, 'plain text labelled gzip: 400');
  t.equal(errorOf(t, notGzip).code, 'BAD_GZIP', 'plain text labelled gzip: BAD_GZIP');

  // 4 MiB of spaces inflate past the 256 KiB limit; the compressed body is tiny.
  const bomb = gzipSync(Buffer.concat([Buffer.from('{"id":"x","imp":[]'), Buffer.alloc(4 * 1024 * 1024, 0x20), Buffer.from('}')]));
  t.ok(bomb.byteLength < MAX_BODY / 8, `bomb is small on the wire (${bomb.byteLength} bytes)`);
  const big = await postBid(b.port, bomb, { 'content-encoding': 'gzip' });
  t.equal(big.status, 413, 'gzip bomb: 413');
  t.equal(errorOf(t, big).code, 'BODY_TOO_LARGE', 'gzip bomb: BODY_TOO_LARGE');

  // RFC 9110 §8.4.1: content codings are case-insensitive; x-gzip is gzip (§8.4.1.3).
  for (const name of ['GZIP', 'Gzip', 'x-gzip']) {
    const r = await postBid(b.port, gzipSync(SIMPLE_BANNER_TEXT), { 'content-encoding': name });
    t.equal(r.status, 200, `content-encoding "${name}" is gzip (got ${r.status} ${r.body.slice(0, 80)})`);
  }
  const identity = await postBid(b.port, SIMPLE_BANNER_TEXT, { 'content-encoding': 'Identity' });
  t.equal(identity.status, 200, 'content-encoding "Identity" is no coding');

  const br = await postBid(b.port, SIMPLE_BANNER_TEXT, { 'content-encoding': 'br' });
  t.equal(br.status, 415, 'br: 415');
  t.equal(errorOf(t, br).code, 'UNSUPPORTED_ENCODING', 'br: UNSUPPORTED_ENCODING');
  await assertStillBids(t, 'encoding errors');
});

t.test('declared content-length over the limit is refused without reading the body', async (t) => {
  const declared = 8 * 1024 * 1024;
  const head =
    'POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${declared}\r\n\r\n`;
  const started = Date.now();
  const r = await rawExchange(b.port, [head, Buffer.alloc(4096, 0x20)], { maxMs: 3_000 });
  const elapsed = Date.now() - started;
  t.equal(r.status, 413, '413 on the declared length');
  t.match(r.text, /BODY_TOO_LARGE/, 'code in the body');
  t.ok(r.firstByteMs >= 0 && r.firstByteMs < 1_000, `answer arrives promptly (${r.firstByteMs} ms)`);
  t.ok(r.closed, 'the server closes the connection instead of waiting for 8 MiB');
  t.ok(elapsed < 2_000, `exchange over in ${elapsed} ms`);
  await assertStillBids(t, 'an oversized declared body');
});

t.test('chunked body without content-length over the limit is a 413', async (t) => {
  const head =
    'POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const framed = Buffer.concat([Buffer.from(chunk.byteLength.toString(16) + '\r\n'), chunk, Buffer.from('\r\n')]);
  const parts: Buffer[] = [Buffer.from(head)];
  for (let i = 0; i < 8; i++) parts.push(framed); // 512 KiB, twice the limit
  parts.push(Buffer.from('0\r\n\r\n'));
  const r = await rawExchange(b.port, parts, { maxMs: 3_000, gapMs: 5 });
  t.equal(r.status, 413, '413');
  t.match(r.text, /BODY_TOO_LARGE/, 'code in the body');

  // A small chunked body is accepted and bid on like any other.
  const body = Buffer.from(SIMPLE_BANNER_TEXT);
  const ok = await rawExchange(
    b.port,
    [head, body.byteLength.toString(16) + '\r\n', body, '\r\n0\r\n\r\n'],
    { maxMs: 3_000 },
  );
  t.equal(ok.status, 200, 'small chunked body bids');
  await assertStillBids(t, 'an oversized chunked body');
});

t.test('operational routes', async (t) => {
  t.equal((await send(b.port, 'GET', '/healthz')).status, 200, '/healthz 200');
  t.equal((await send(b.port, 'GET', '/readyz')).status, 200, '/readyz 200');
  const nf = await send(b.port, 'GET', '/nope');
  t.equal(nf.status, 404, 'unknown path 404');
  t.equal(errorOf(t, nf).code, 'NOT_FOUND', 'NOT_FOUND');
  const postNf = await send(b.port, 'POST', '/openrtb2/bids', SIMPLE_BANNER_TEXT);
  t.equal(postNf.status, 404, 'POST to an unknown path 404');
  const get = await send(b.port, 'GET', '/openrtb2/bid');
  t.equal(get.status, 405, 'GET on the bid route 405');
  t.equal(errorOf(t, get).code, 'METHOD_NOT_ALLOWED', 'METHOD_NOT_ALLOWED');
});

t.test('/debug/latency after traffic', async (t) => {
  for (let i = 0; i < 5; i++) await postBid(b.port, SIMPLE_BANNER_TEXT);
  const text = await send(b.opsPort, 'GET', '/debug/latency');
  t.equal(text.status, 200);
  for (const stage of ['receive', 'queue', 'score', 'respond', 'total']) {
    t.match(text.body, `stage=${stage}`, `text names stage ${stage}`);
  }
  const json = await send(b.opsPort, 'GET', '/debug/latency?format=json');
  t.equal(json.status, 200);
  t.match(String(json.headers['content-type']), /application\/json/);
  const stats = JSON.parse(json.body) as Record<string, { count: number; p50: number; p99: number }>;
  for (const stage of ['receive', 'queue', 'score', 'respond', 'total']) {
    const s = stats[stage];
    t.ok(s, `json has ${stage}`);
    if (!s) continue;
    t.ok(s.count > 0, `${stage} count > 0 (${s.count})`);
    t.type(s.p50, 'number', `${stage} p50`);
    t.type(s.p99, 'number', `${stage} p99`);
    t.ok(s.p99 >= s.p50, `${stage} p99 >= p50`);
  }
  t.ok(stats.total.p50 >= stats.score.p50, 'total is at least the score stage');
});

t.test('hostile bodies get a 400 and the bidder keeps serving', async (t) => {
  const id = SIMPLE_BANNER.id;
  const cases: { name: string; body: Buffer; code: string | RegExp }[] = [
    { name: '50k nested arrays', body: Buffer.from('['.repeat(50_000) + ']'.repeat(50_000)), code: 'TOO_DEEP' },
    { name: '200 KB of [', body: Buffer.from('['.repeat(200 * 1024)), code: 'TOO_DEEP' },
    {
      name: 'nesting bomb inside ext',
      body: Buffer.from(SIMPLE_BANNER_TEXT.slice(0, -1) + ',"ext":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}'),
      code: 'TOO_DEEP',
    },
    { name: 'invalid UTF-8 outside strings', body: Buffer.concat([Buffer.from('{"id":"x",'), Buffer.from([0xff, 0xfe]), Buffer.from('}')]), code: 'BAD_JSON' },
    {
      // RFC 8259 §8.1: JSON exchanged between systems MUST be UTF-8. Decoding 0xC3 0x28 to
      // U+FFFD and bidding would echo an id the exchange never sent.
      name: 'invalid UTF-8 inside the request id',
      body: Buffer.concat([
        Buffer.from(SIMPLE_BANNER_TEXT.slice(0, SIMPLE_BANNER_TEXT.indexOf(id))),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(SIMPLE_BANNER_TEXT.slice(SIMPLE_BANNER_TEXT.indexOf(id))),
      ]),
      code: /^(BAD_JSON|INVALID_VALUE)$/,
    },
    {
      name: 'huge number literal as bidfloor',
      body: Buffer.from(JSON.stringify({ ...SIMPLE_BANNER, imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0 }] }).replace('"bidfloor":0', '"bidfloor":' + '9'.repeat(100_000))),
      code: 'INVALID_VALUE',
    },
    {
      name: 'huge number literal as tmax',
      body: Buffer.from(SIMPLE_BANNER_TEXT.slice(0, -1) + ',"tmax":1' + '0'.repeat(400) + '}'),
      code: /^(INVALID_VALUE|INVALID_TYPE)$/,
    },
  ];
  for (const c of cases) {
    t.ok(c.body.byteLength <= MAX_BODY, `${c.name}: fits the body limit`);
    const r = await postBid(b.port, c.body);
    t.equal(r.status, 400, `${c.name}: 400 (got ${r.status})`);
    if (r.status === 400) t.match(errorOf(t, r).code, c.code, `${c.name}: code`);
  }
  await assertStillBids(t, 'hostile bodies');
});
