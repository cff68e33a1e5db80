/**
 * The bid route on a real uWebSockets.js app (port 0) with a stub dispatcher: what it
 * refuses before reading a body, what it hands over complete, and the no-bids it answers
 * itself (overloaded, draining), each counted once and out of the in-flight count.
 */
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, M, OutcomeTable } from '../../src/metrics/definitions';
import type { StageLatency } from '../../src/metrics/latency';
import { SlotReader, SlotWriter } from '../../src/metrics/shared-metrics';
import { ReceiveSlab } from '../../src/pool/receive-slab';
import { BidRoute, InFlightRequests, type HttpJob } from '../../src/server/bid-route';
import { ReceiveMemory } from '../../src/server/body-receiver';
import { FrontAnswers } from '../../src/server/front-answers';
import { loadNativeUws } from '../../src/server/uws';

const uws = loadNativeUws();
const outcomes = new OutcomeTable(ALL_ERROR_CODES);
const layout = buildMetricsLayout(outcomes, 8);

async function setup(t: Test) {
  const buffer = layout.allocate();
  const metrics = new SlotWriter(layout, buffer, 0);
  const reader = new SlotReader(layout, buffer);
  const answers = new FrontAnswers(metrics, outcomes, { record() {} } as unknown as StageLatency);
  const inFlight = new InFlightRequests();
  const slab = new ReceiveSlab(64, 4); // a body over 64 bytes never fits: overloaded
  const submitted: { length: number; body: string; inFlight: number }[] = [];
  const dispatcher = {
    submit(job: HttpJob) {
      submitted.push({ length: job.length, body: Buffer.from(slab.bytes.subarray(job.offset, job.offset + job.length)).toString(), inFlight: inFlight.count });
      job.done = true;
      answers.answer(job, 200, outcomes.bid, Buffer.from('{"id":"r"}'), 0, 0);
    },
  };
  const route = new BidRoute({
    limits: { maxBodyBytes: 1024, maxReceivingBytes: 4096, bodyTimeoutMs: 10_000 },
    testHooks: false,
    slab,
    dispatcher: dispatcher as never,
    inFlight,
    receiving: new ReceiveMemory(),
    answers,
  });
  const app = uws.App();
  route.register(app);
  const socket = await new Promise<unknown>((resolve) => app.listen('127.0.0.1', 0, resolve));
  t.teardown(() => {
    route.close();
    uws.us_listen_socket_close(socket as never);
  });
  const port = uws.us_socket_local_port(socket as never);
  const requests = (o: string, r: string) => reader.sum(layout.offset(M.requests, [o, r]));
  return { route, port, inFlight, submitted, requests };
}

/** One raw request; resolves with what came back and whether the server closed the connection. */
function raw(port: number, headers: string, body = ''): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.write(`POST /openrtb2/bid HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`));
    let text = '';
    c.on('data', (d) => (text += d));
    c.on('error', reject);
    c.on('end', () => resolve({ text, closed: true }));
    // An answer that keeps the connection is complete once its header block is.
    const poll = setInterval(() => {
      if (text.includes('\r\n\r\n') && !/connection: close/i.test(text)) {
        clearInterval(poll);
        setTimeout(() => {
          c.destroy();
          resolve({ text, closed: false });
        }, 20);
      }
    }, 5);
    c.on('close', () => clearInterval(poll));
  });
}

t.test('a complete body is handed to the dispatcher, in the in-flight count', async (t) => {
  const s = await setup(t);
  const body = '{"id":"r","imp":[]}';
  const r = await raw(s.port, `content-length: ${body.length}\r\n`, body);
  t.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
  t.same(s.submitted, [{ length: body.length, body, inFlight: 1 }]);
  t.equal(s.requests('bid', 'none'), 1);
  t.equal(s.inFlight.count, 0);
});

t.test('a body the slab cannot take: 204 overloaded, connection kept, counted once', async (t) => {
  const s = await setup(t);
  const body = 'x'.repeat(100);
  const r = await raw(s.port, `content-length: ${body.length}\r\n`, body);
  t.match(r.text, /^HTTP\/1\.1 204 No Content\r\n/);
  t.notOk(r.closed, 'keep-alive');
  t.notMatch(r.text, /content-length/i, 'a 204 without a length');
  t.equal(s.requests('no_bid', 'overloaded'), 1);
  t.same(s.submitted, []);
  t.equal(s.inFlight.count, 0);
});

t.test('draining: 204 and a close, before any job; the process lives on', async (t) => {
  const s = await setup(t);
  s.route.setDraining();
  t.ok(s.route.isDraining);
  const r = await raw(s.port, 'content-length: 2\r\n', '{}');
  t.match(r.text, /^HTTP\/1\.1 204 No Content\r\n/);
  t.match(r.text, /\r\nConnection: close\r\n/);
  t.ok(r.closed, 'the server closed the connection');
  t.equal(s.requests('no_bid', 'draining'), 1);
  t.equal(s.inFlight.count, 0, 'no job was made');
  const again = await raw(s.port, 'content-length: 2\r\n', '{}');
  t.match(again.text, /^HTTP\/1\.1 204 /, 'and answers the next one too');
});

t.test('refused before reading: unknown coding 415, declared length over the limit 413, both closed', async (t) => {
  const s = await setup(t);
  const coding = await raw(s.port, 'content-encoding: br\r\ncontent-length: 2\r\n', '{}');
  t.match(coding.text, /^HTTP\/1\.1 415 /);
  t.ok(coding.closed);
  t.equal(s.requests('error', 'UNSUPPORTED_ENCODING'), 1);
  const large = await raw(s.port, 'content-length: 2048\r\n');
  t.match(large.text, /^HTTP\/1\.1 413 /);
  t.ok(large.closed);
  t.equal(s.requests('error', 'BODY_TOO_LARGE'), 1);
  t.same(s.submitted, []);
  t.equal(s.inFlight.count, 0);
});
