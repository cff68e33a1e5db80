/**
 * Several acceptors on one port (server.acceptors > 1): the kernel spreads connections
 * over the main thread's acceptor and the acceptor threads, each runs the whole bid path,
 * their pool batches reach the one pool through the main thread, and every existing
 * behaviour holds across them: metrics and /debug/latency count every request once,
 * readyz, a worker lost under a thread's batch, and the drain (in-process and SIGTERM).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { simpleBanner } from '../helpers/requests';
import { canConnect, freePort, REPO_ROOT, sampleValue, scrape, send, startTestBidder, withTimeout } from '../helpers/test-bidder';

t.setTimeout(120_000);

const kAcceptors = 3;

/** A bid request on a connection of its own: the kernel picks an acceptor per connection (SO_REUSEPORT). */
function postFresh(port: number, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolveResult, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/openrtb2/bid', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolveResult({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

t.test('connections spread over every acceptor, and each request is answered and counted once', async (t) => {
  const b = await startTestBidder({ server: { acceptors: kAcceptors } });
  t.teardown(() => b.close());
  t.equal(b.bidder.acceptors, kAcceptors);
  t.equal((await send(b.port, 'GET', '/readyz')).status, 200, 'readyz on the bidding port');

  const kRequests = 150;
  const statuses: number[] = [];
  for (let i = 0; i < kRequests; i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, (_, j) => postFresh(b.port, simpleBanner(`spread-${i + j}`))));
    for (const r of batch) statuses.push(r.status);
  }
  t.same([...new Set(statuses)], [200], 'every request bid');

  const answered = await b.bidder.answeredByAcceptor();
  t.equal(answered.length, kAcceptors);
  t.equal(answered.reduce((a, n) => a + n, 0), kRequests, 'the acceptors answered each request once between them');
  t.ok(answered.filter((n) => n > 0).length >= 2, `more than one acceptor served (${answered.join(', ')})`);

  const metrics = await scrape(b.opsPort);
  t.equal(sampleValue(metrics, 'bidder_requests_total', { outcome: 'bid', reason: 'none' }), kRequests, 'metrics sum every acceptor');
  t.equal(sampleValue(metrics, 'bidder_requests_in_flight'), 0, 'gauges sum every acceptor');
  const latency = JSON.parse((await send(b.opsPort, 'GET', '/debug/latency?format=json')).body) as Record<string, { count: number }>;
  t.equal(latency.total.count, kRequests, '/debug/latency merges every acceptor');
});

t.test("an acceptor thread's pool batches: delayed, and a worker lost under one", async (t) => {
  const b = await startTestBidder({ server: { acceptors: kAcceptors } });
  t.teardown(() => b.close());
  // Test hooks go to the pool only, whichever acceptor received them.
  const delayed = await Promise.all(
    Array.from({ length: 24 }, (_, i) => postFresh(b.port, simpleBanner(`pool-${i}`), { 'x-test-delay-ms': '5' })),
  );
  t.same([...new Set(delayed.map((r) => r.status))], [200], 'pool batches from every acceptor are answered');
  const answered = await b.bidder.answeredByAcceptor();
  t.ok(answered.slice(1).some((n) => n > 0), `an acceptor thread sent batches to the pool (${answered.join(', ')})`);

  // A worker crash fails its batch: the acceptor that sent it answers a no-bid and serves on.
  const crashed = await Promise.all(
    Array.from({ length: 6 }, (_, i) => postFresh(b.port, simpleBanner(`crash-${i}`), { 'x-test-crash': '1' })),
  );
  for (const r of crashed) t.equal(r.status, 204, 'a lost worker is a no-bid');
  const after = await Promise.all(Array.from({ length: 12 }, (_, i) => postFresh(b.port, simpleBanner(`after-${i}`))));
  t.same([...new Set(after.map((r) => r.status))], [200], 'every acceptor serves on');
  const metrics = await scrape(b.opsPort);
  // Each crash answers its batch as worker_failed; a crash request that waited for a slot
  // while the crashed workers were being replaced is shed (overloaded) instead, or, handed
  // to a replacement still starting, answered by the hard timeout (tmax_exceeded).
  const reason = (r: string): number => sampleValue(metrics, 'bidder_requests_total', { outcome: 'no_bid', reason: r }) ?? 0;
  const failed = reason('worker_failed');
  t.ok(failed >= 1, `a worker was lost under a batch (${failed})`);
  t.equal(failed + reason('overloaded') + reason('tmax_exceeded'), 6, 'each crash request answered once, as a no-bid');
});

t.test('a drain answers what every acceptor received, then closes the port', async (t) => {
  // Room in the pool for every batch at once (a request that waited for a slot past
  // pool.maxQueueDelayMs would be shed), and a hard timeout far past the delayed batches
  // queued on one worker (a batch held past half of it counts as stuck): neither is what
  // this test is about.
  const b = await startTestBidder({ server: { acceptors: kAcceptors, hardTimeoutMs: 5_000 }, pool: { maxBatchesPerWorker: 8 } });
  const kInFlight = 9;
  const inFlight = Array.from({ length: kInFlight }, (_, i) => postFresh(b.port, simpleBanner(`drain-${i}`), { 'x-test-delay-ms': '200' }));
  // Drain once every acceptor has received its share (the gauge sums them all).
  const until = Date.now() + 10_000;
  while (Date.now() < until && sampleValue(await scrape(b.opsPort), 'bidder_requests_in_flight') !== kInFlight) await new Promise((r) => setTimeout(r, 10));
  await withTimeout(b.close(), 20_000, 'drain');
  const results = await Promise.all(inFlight);
  t.same([...new Set(results.map((r) => r.status))], [200], 'every request received before the drain is answered');
  t.equal(await canConnect(b.port), false, 'no acceptor listens any more');
});

t.test('the real process with several acceptors drains on SIGTERM and exits 0', async (t) => {
  const port = await freePort();
  const opsPort = await freePort();
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BIDDER_')) clean[k] = v;
  const proc = spawn(process.execPath, [resolve(REPO_ROOT, 'dist/src/main.js')], {
    cwd: REPO_ROOT,
    env: { ...clean, BIDDER_HOST: '127.0.0.1', BIDDER_PORT: String(port), BIDDER_OPS_HOST: '127.0.0.1', BIDDER_OPS_PORT: String(opsPort), BIDDER_ACCEPTORS: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  const until = Date.now() + 30_000;
  while (Date.now() < until && !/ready \(/.test(out)) await new Promise((r) => setTimeout(r, 100));
  t.match(out, /2 acceptor\(s\)/, 'the start-up log names the acceptors');
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => postFresh(port, simpleBanner(`p-${i}`))));
  t.same([...new Set(answers.map((r) => r.status))], [200]);
  proc.kill('SIGTERM');
  t.equal(await withTimeout(exited, 20_000, 'exit'), 0, `exit code 0 (output: ${out.slice(-400)})`);
  t.match(out, /drained, exiting/);
});

t.test('an acceptor thread that fails closes its sockets, and is replaced; the others serve on', async (t) => {
  const b = await startTestBidder({ server: { acceptors: kAcceptors } });
  t.teardown(() => b.close());
  const reports: string[] = [];
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    reports.push(String(chunk));
    return stderrWrite(chunk, ...rest);
  }) as typeof process.stderr.write;
  t.teardown(() => {
    process.stderr.write = stderrWrite;
  });
  // Fresh connections until one lands on an acceptor thread (the main thread ignores the hook).
  let failed = 0;
  for (let i = 0; i < 40 && failed === 0; i++) {
    const r = await postFresh(b.port, simpleBanner(`fail-${i}`), { 'x-test-fail-acceptor': '1' });
    if (r.status === 500) failed++;
    else t.equal(r.status, 200, 'the main thread ignores the hook');
  }
  t.equal(failed, 1, 'an acceptor thread took the hook');
  // While it is replaced, and after, every connection is served by a live acceptor.
  const until = Date.now() + 15_000;
  while (Date.now() < until && !reports.some((m) => /starting a replacement/.test(m))) await new Promise((r) => setTimeout(r, 20));
  t.ok(reports.some((m) => /acceptor \d failed: .*x-test-fail-acceptor/s.test(m)), 'the failure is reported');
  t.ok(reports.some((m) => /acceptor \d exited \(\d+\) while serving; starting a replacement/.test(m)), 'the thread ended and is replaced');
  const after = await Promise.all(Array.from({ length: 30 }, (_, i) => postFresh(b.port, simpleBanner(`after-fail-${i}`))));
  t.same([...new Set(after.map((r) => r.status))], [200], 'every request after the failure is answered');
  // The replacement listens again: eventually every acceptor answers.
  let answered = await b.bidder.answeredByAcceptor();
  const replacedBy = Date.now() + 15_000;
  while (Date.now() < replacedBy && answered.length === kAcceptors && answered.filter((n) => n > 0).length < kAcceptors) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => postFresh(b.port, simpleBanner(`spread-again-${i}`))));
    answered = await b.bidder.answeredByAcceptor();
  }
  t.equal(answered.filter((n) => n > 0).length, kAcceptors, `every acceptor serves again (${answered.join(', ')})`);
});
