/**
 * Slow senders over real sockets: connections that declare a large body and trickle it
 * hold only the bytes they sent, get 408 BODY_TIMEOUT when the deadline passes, are
 * evicted (408 BODY_EVICTED) when receive memory is short, and never turn an honest
 * request into a 204. Memory (slab segments, receiving bytes) returns to zero after.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import {
  postBid,
  rawExchange,
  sampleValue,
  scrape,
  startTestBidder,
  type TapTest,
  type TestBidder,
} from '../helpers/test-bidder';
import { simpleBanner } from '../helpers/requests';
import { kMinBodyBufferBytes as kMinBuffer } from '../../src/server/body-receiver';

t.setTimeout(60_000);

const KiB = 1024;

const head = (declared: number): string =>
  'POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
  `Content-Length: ${declared}\r\n\r\n`;
const chunkedHead =
  'POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;

/** A valid bid request padded with trailing spaces (still valid JSON) to exactly `n` bytes. */
function paddedBid(id: string, n: number): Buffer {
  const json = simpleBanner(id);
  return Buffer.from(json + ' '.repeat(n - Buffer.byteLength(json)));
}

interface Answer {
  status: number;
  text: string;
}

/** A raw connection we write to at will. */
interface Conn {
  /** The first complete response (or what arrived before the connection ended). */
  response: Promise<Answer>;
  /** Settles when the connection ends: true when the server closed it, false when we did. */
  closed: Promise<boolean>;
  /** True once a response arrived or the connection ended. */
  settled: boolean;
  write(data: string | Buffer): void;
  destroy(): void;
}

/** Parses one HTTP/1.1 response with a content-length (or none) out of `text`, if complete. */
function parseResponse(text: string): Answer | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  const bodyLength = len ? Number(len[1]) : 0;
  if (text.length < end + 4 + bodyLength) return null;
  return { status: m ? Number(m[1]) : 0, text: text.slice(0, end + 4 + bodyLength) };
}

function open(port: number, first: string | Buffer): Promise<Conn> {
  return new Promise((resolveConn, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let destroyedByUs = false;
    let resolveResponse!: (a: Answer) => void;
    const conn: Conn = {
      settled: false,
      response: new Promise<Answer>((r) => (resolveResponse = r)),
      closed: new Promise<boolean>((r) => socket.on('close', () => r(!destroyedByUs))),
      write(data) {
        if (!socket.destroyed) socket.write(data);
      },
      destroy() {
        destroyedByUs = true;
        socket.destroy();
      },
    };
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const a = parseResponse(text);
      if (a !== null && !conn.settled) {
        conn.settled = true;
        resolveResponse(a);
      }
    });
    socket.on('close', () => {
      if (conn.settled) return;
      conn.settled = true;
      resolveResponse({ status: 0, text });
    });
    socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server has refused the body
    socket.once('connect', () => {
      socket.write(first);
      resolveConn(conn);
    });
    socket.once('error', reject);
  });
}

/** `p`, or `fallback` once `ms` passed. */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)))]).finally(() => clearTimeout(timer));
}

const codeOf = (a: Answer): string | undefined => /"code":"(\w+)"/.exec(a.text)?.[1];

/** The Prometheus text from the bidder's operations listener. */
async function metricsOf(b: TestBidder): Promise<string> {
  return scrape(b.bidder.opsPort);
}

const receivingBytes = (text: string): number | undefined => sampleValue(text, 'bidder_receiving_bytes');
const errorCount = (text: string, code: string): number =>
  sampleValue(text, 'bidder_requests_total', { outcome: 'error', reason: code }) ?? NaN;

/** Polls /metrics until `pred` holds or `ms` passes; returns the last scrape. */
async function waitForMetrics(b: TestBidder, pred: (text: string) => boolean, ms: number): Promise<string> {
  const until = Date.now() + ms;
  let text = await metricsOf(b);
  while (!pred(text) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    text = await metricsOf(b);
  }
  return text;
}

const nothingHeld = (text: string): boolean =>
  receivingBytes(text) === 0 &&
  sampleValue(text, 'bidder_receive_slab_segments_in_use') === 0 &&
  sampleValue(text, 'bidder_requests_in_flight') === 0;

async function assertNothingHeld(t: TapTest, b: TestBidder, why: string): Promise<void> {
  const text = await waitForMetrics(b, nothingHeld, 3_000);
  t.equal(receivingBytes(text), 0, `${why}: no receiving bytes`);
  t.equal(sampleValue(text, 'bidder_receive_slab_segments_in_use'), 0, `${why}: no slab segment in use`);
  t.equal(sampleValue(text, 'bidder_requests_in_flight'), 0, `${why}: nothing in flight`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('at the default deadline (50 ms)', async (t) => {
  const b = await startTestBidder({ testHooks: false });
  t.teardown(() => b.close());

  t.test('a body slower than bodyTimeoutMs gets 408 BODY_TIMEOUT and the connection closes', async (t) => {
    const before = errorCount(await metricsOf(b), 'BODY_TIMEOUT');
    const trickle = Array.from({ length: 50 }, () => ' ');
    const r = await rawExchange(b.port, [head(2 * KiB), '{', ...trickle], { gapMs: 10, maxMs: 3_000 });
    t.equal(r.status, 408, '408');
    t.match(r.text, /"code":"BODY_TIMEOUT"/, 'code in the body');
    t.ok(r.closed, 'the server closed the connection');
    t.ok(r.firstByteMs >= 45 && r.firstByteMs < 1_000, `refused at the deadline, not before (${r.firstByteMs} ms)`);
    t.equal(errorCount(await metricsOf(b), 'BODY_TIMEOUT'), before + 1, 'counted once under error/BODY_TIMEOUT');
    await assertNothingHeld(t, b, 'after the timeout');
  });

  t.test('a chunked body has the same deadline', async (t) => {
    const trickle = Array.from({ length: 50 }, () => chunk(' '));
    const r = await rawExchange(b.port, [chunkedHead, chunk('{'), ...trickle], { gapMs: 10, maxMs: 3_000 });
    t.equal(r.status, 408, '408');
    t.match(r.text, /"code":"BODY_TIMEOUT"/);
    t.ok(r.closed, 'closed');
    await assertNothingHeld(t, b, 'after the chunked timeout');
  });

  t.test('140 trickling connections declaring 256 KiB, reconnecting as they are refused: every honest request bids', async (t) => {
    let stop = false;
    const refusals: string[] = [];
    const lane = async (): Promise<void> => {
      while (!stop) {
        const c = await open(b.port, head(256 * KiB) + '{');
        while (!c.settled) {
          await sleep(20);
          c.write(' ');
        }
        const a = await c.response;
        refusals.push(`${a.status} ${codeOf(a)} closed:${await within(c.closed, 2_000, false)}`);
        await sleep(30); // an attacker's pace, and a bounded load on the test machine
      }
    };
    // 140 x 256 KiB declared is more than the 32 x 1 MiB slab: reserving from the
    // declared length would shed every honest request.
    const lanes = Array.from({ length: 140 }, lane);
    await sleep(100); // every lane connected and trickling
    const statuses: number[] = [];
    const until = Date.now() + 500;
    for (let i = 0; i < 20 || Date.now() < until; i++) {
      statuses.push((await postBid(b.port, simpleBanner(`honest-${i}`))).status);
    }
    stop = true;
    await Promise.all(lanes);
    t.same(statuses, new Array(statuses.length).fill(200), `all ${statuses.length} honest requests bid`);
    t.ok(refusals.length >= 140, `${refusals.length} trickling bodies refused`);
    t.same([...new Set(refusals)], ['408 BODY_TIMEOUT closed:true'], 'each with 408 BODY_TIMEOUT and a closed connection');
    await assertNothingHeld(t, b, 'after the attack');
  });
});

t.test('with a long deadline and a small receive budget', async (t) => {
  const b = await startTestBidder({
    testHooks: false,
    server: { maxBodyBytes: 256 * KiB, maxReceivingBytes: 256 * KiB, bodyTimeoutMs: 10_000 },
  });
  t.teardown(() => b.close());

  t.test('140 live trickling connections hold what they sent, not what they declared; honest requests bid', async (t) => {
    // 140 declare 256 KiB (35 MiB, more than the 32 MiB slab); 40 more are chunked.
    const declaring = 140;
    const conns = await Promise.all(
      Array.from({ length: declaring + 40 }, (_, i) => open(b.port, i < declaring ? head(256 * KiB) + '{' : chunkedHead + chunk('{'))),
    );
    let text = await waitForMetrics(b, (m) => receivingBytes(m) === conns.length * kMinBuffer, 3_000);
    t.equal(receivingBytes(text), conns.length * kMinBuffer, 'bodies of 1 byte hold 1 KiB each, chunked or declared');
    t.equal(sampleValue(text, 'bidder_receive_slab_segments_in_use'), 0, 'incomplete bodies hold no slab segment');
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await postBid(b.port, simpleBanner(`honest-${i}`))).status);
    t.same(statuses, new Array(20).fill(200), 'all 20 honest requests bid');
    conns.forEach((c, i) => c.write(i < declaring ? ' ' : chunk(' ')));
    await sleep(50);
    t.ok(conns.every((c) => !c.settled), 'the tricklers are still connected and unanswered');

    // An aborted client mid-body frees its memory at once, not at its deadline.
    const timeoutsBefore = errorCount(await metricsOf(b), 'BODY_TIMEOUT');
    for (const c of conns) c.destroy();
    text = await waitForMetrics(b, nothingHeld, 3_000);
    t.ok(nothingHeld(text), 'the clients that went away left nothing held');
    t.equal(errorCount(text, 'BODY_TIMEOUT'), timeoutsBefore, 'freed by the abort, not by the deadline sweep');
  });

  t.test('an aborted client mid-body frees its memory', async (t) => {
    const c = await open(b.port, Buffer.concat([Buffer.from(head(200 * KiB)), Buffer.alloc(100 * KiB, 0x20)]));
    let text = await waitForMetrics(b, (m) => (receivingBytes(m) ?? 0) >= 100 * KiB, 3_000);
    t.ok((receivingBytes(text) ?? 0) >= 100 * KiB, `held while it arrives (${receivingBytes(text)} bytes)`);
    c.destroy();
    text = await waitForMetrics(b, nothingHeld, 3_000);
    t.ok(nothingHeld(text), 'released when the client went away');
  });

  t.test('when receive memory is short the slow body is evicted, and the honest ones complete', async (t) => {
    const evictedBefore = errorCount(await metricsOf(b), 'BODY_EVICTED');
    // slow: 1 byte (holds 1 KiB). steady: 128 KiB of 128 KiB + 1. honest: 128 KiB - 2 of 128 KiB - 1.
    // 1 KiB + 128 KiB + (128 KiB - 2) passes the 256 KiB budget; without the slow body it fits.
    const slow = await open(b.port, head(256 * KiB) + '{');
    const steadyBody = paddedBid('steady', 128 * KiB + 1);
    const steady = await open(b.port, Buffer.concat([Buffer.from(head(steadyBody.byteLength)), steadyBody.subarray(0, -1)]));
    await waitForMetrics(b, (m) => (receivingBytes(m) ?? 0) >= kMinBuffer + 128 * KiB, 3_000);
    const honestBody = paddedBid('honest', 128 * KiB - 1);
    const honest = await open(b.port, Buffer.concat([Buffer.from(head(honestBody.byteLength)), honestBody.subarray(0, -1)]));

    const refused = await within(slow.response, 3_000, { status: -1, text: '' });
    t.equal(refused.status, 408, 'the slow body: 408');
    t.equal(codeOf(refused), 'BODY_EVICTED', 'BODY_EVICTED');
    t.ok(await within(slow.closed, 2_000, false), 'and its connection closed');
    t.notOk(steady.settled, 'the body making progress was not evicted');
    t.notOk(honest.settled, 'nor the one that needed the room');

    honest.write(honestBody.subarray(-1));
    steady.write(steadyBody.subarray(-1));
    const timedOut = { status: -1, text: '' };
    const [h, s] = await Promise.all([within(honest.response, 3_000, timedOut), within(steady.response, 3_000, timedOut)]);
    t.equal(h.status, 200, 'the honest body bids');
    t.equal(s.status, 200, 'the steady body bids');
    t.equal(errorCount(await metricsOf(b), 'BODY_EVICTED'), evictedBefore + 1, 'counted once under error/BODY_EVICTED');
    honest.destroy();
    steady.destroy();
    await assertNothingHeld(t, b, 'after the eviction');
  });
});
