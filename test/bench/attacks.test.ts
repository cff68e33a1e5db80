/**
 * The attack benchmark's pieces: each attack generator against a tiny local TCP server
 * that records what it receives (and closes or answers on cue), the attack requests,
 * the phase arithmetic and verdict, and the whole phase sequence run small against a real
 * test bidder (0.5 s phases, quick-size attacks, about 10 s in all).
 */
import t from 'tap';
import { createServer, type Server, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { everyMediaRequest, getRequest, gzipBomb, postRequest } from '../../bench/attack/attack-requests';
import { idleConnections, requestFlood, slowSenders } from '../../bench/attack/attackers';
import {
  applyBaselineRatios,
  attackPlan,
  peakConnections,
  phaseTable,
  summarizeHonest,
  verdict,
  type PhaseResult,
} from '../../bench/attack/phases';
import { probeOps, runPhases } from '../../bench/attack/run-phases';
import { runLoad, type LoadResult } from '../../bench/load/open-loop';
import { parseBidRequest } from '../../src/openrtb/parse-request';
import { freePort, startTestBidder } from '../helpers/test-bidder';
import { simpleBanner } from '../helpers/requests';

t.setTimeout(60_000);

interface Recorder {
  server: Server;
  port: number;
  /** Every connection accepted, with the bytes it sent. */
  conns: { socket: Socket; bytes: number; data: Buffer[] }[];
}

/** A TCP server that accepts and records; `onData` may answer or close. */
function recorder(onData?: (c: Recorder['conns'][number], chunk: Buffer) => void): Promise<Recorder> {
  const r: Recorder = { server: createServer(), port: 0, conns: [] };
  r.server.on('connection', (socket) => {
    const c = { socket, bytes: 0, data: [] as Buffer[] };
    r.conns.push(c);
    socket.on('data', (d: Buffer) => {
      c.bytes += d.length;
      c.data.push(d);
      onData?.(c, d);
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    r.server.listen(0, '127.0.0.1', () => {
      r.port = (r.server.address() as { port: number }).port;
      resolve(r);
    }),
  );
}

function close(r: Recorder): Promise<void> {
  for (const c of r.conns) c.socket.destroy();
  return new Promise((resolve) => r.server.close(() => resolve()));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('slow senders declare a big body, trickle it, and come back when answered', async (t) => {
  let answered = false;
  const r = await recorder((c, chunk) => {
    // Answer the first connection once it has trickled twice, as a body timeout would.
    if (!answered && c === r.conns[0] && c.bytes > 0 && chunk.toString().trim() === '' && c.data.length >= 3) {
      answered = true;
      c.socket.end('HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n');
    }
  });
  t.teardown(() => close(r));
  const attack = slowSenders({ port: r.port, connections: 5, declaredBytes: 256 * 1024, trickleBytes: 4, intervalMs: 40, durationMs: 500 });
  const report = await attack.done; // stops by itself
  t.ok(report.durationMs >= 500 && report.durationMs < 1_000, `ran ${report.durationMs} ms, then stopped`);
  const first = Buffer.concat(r.conns[1].data).toString('latin1');
  t.match(first, /^POST \/openrtb2\/bid HTTP\/1\.1\r\n[^]*Content-Length: 262144\r\n\r\n/, 'declares 256 KiB');
  const bodyBytes = r.conns[1].bytes - first.indexOf('\r\n\r\n') - 4;
  // 500 ms at one 4-byte write per 40 ms: about 12 writes, never the whole body.
  t.ok(bodyBytes >= 4 * 5 && bodyBytes <= 4 * 14, `trickled ${bodyBytes} bytes`);
  t.same(report.status, { 408: 1 }, 'counted the answer');
  t.equal(report.connections, 6, 'the answered connection was replaced');
  t.equal(report.closedByServer, 1, 'the server closed one');
});

t.test('idle connections send nothing and are reopened when closed', async (t) => {
  const r = await recorder();
  t.teardown(() => close(r));
  const attack = idleConnections({ port: r.port, connections: 20, reopenMs: 30, durationMs: 400 });
  await sleep(100);
  t.equal(r.conns.length, 20, 'all opened');
  for (const c of r.conns.slice(0, 5)) c.socket.destroy();
  const report = await attack.done;
  t.equal(r.conns.reduce((n, c) => n + c.bytes, 0), 0, 'not a byte sent');
  t.equal(report.closedByServer, 5, 'the five closes counted');
  t.equal(report.connections, 25, 'the five closed were reopened');
  t.equal(report.peakOpen, 20, 'never more than asked for');
});

t.test('a request flood sends again as each answer completes, and stops on stop()', async (t) => {
  const answer = 'HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\nno';
  const request = postRequest(Buffer.from('{}'));
  const r = await recorder((c) => {
    // One answer per whole request received on this connection.
    while (c.bytes >= request.length) {
      c.bytes -= request.length;
      c.socket.write(answer);
    }
  });
  t.teardown(() => close(r));
  const attack = requestFlood({ attack: 'test-flood', port: r.port, request, concurrency: 3, durationMs: 10_000 });
  await sleep(200);
  attack.stop();
  const report = await attack.done;
  t.ok(report.durationMs < 1_000, 'stop() ends it early');
  t.equal(report.connections, 3, 'one connection per lane');
  t.ok(report.status[413] > 10, `${report.status[413]} answers`);
  t.ok(report.requests - report.status[413] <= 3, 'at most one request in flight per connection');
});

t.test('the attack requests', async (t) => {
  const big = everyMediaRequest(100);
  const parsed = parseBidRequest(big.toString());
  t.ok(parsed.ok, 'the 100-imp request is valid OpenRTB');
  if (parsed.ok) {
    t.equal(parsed.request.imp.length, 100, '100 imps');
    t.ok(parsed.request.imp.every((i) => i.banner && i.video && i.native && i.audio), 'every imp offers all four media');
  }
  const bomb = gzipBomb(16 * 1024 * 1024);
  t.ok(bomb.length < 64 * 1024, `the bomb is ${bomb.length} bytes on the wire`);
  t.equal(gunzipSync(bomb).length, 16 * 1024 * 1024, 'and 16 MiB inflated');
  t.match(postRequest(Buffer.from('xy'), { 'Content-Encoding': 'gzip' }).toString(), /Content-Encoding: gzip\r\nContent-Length: 2\r\n\r\nxy$/);
  t.equal(getRequest('/debug/latency').toString(), 'GET /debug/latency HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'a keep-alive GET');
});

t.test('the plan: seven phases at the sizes asked for, smaller in quick mode', async (t) => {
  const full = attackPlan();
  t.same(full.phases.map((p) => p.name), ['baseline', 'slow-senders', 'idle-connections', 'every-media', 'gzip-bomb', 'ops-latency-storm', 'baseline-after']);
  t.equal(full.phaseS, 10);
  t.equal(full.rate, 2_000);
  t.same(full.phases[1].attack, { kind: 'slow-senders', connections: 400, declaredBytes: 256 * 1024, trickleBytes: 4, intervalMs: 100 });
  t.same(full.phases[2].attack, { kind: 'idle-connections', connections: 2_000 });
  t.same(full.phases[3].attack, { kind: 'every-media', concurrency: 16, imps: 100 });
  t.equal(peakConnections(full), 2_064);
  const quick = attackPlan({ quick: true });
  t.equal(quick.phaseS, 2);
  t.ok(peakConnections(quick) < peakConnections(full) / 5, 'quick attacks are smaller');
  t.equal(attackPlan({ quick: true, rate: 50, phaseS: 1 }).rate, 50);
});

function load(status: Record<string, number>, p99Us: number, sent = 100): LoadResult {
  const completed = Object.values(status).reduce((a, b) => a + b, 0);
  return {
    offeredRate: 100, durationS: 1, sent, completed, achievedRate: completed, status, errors: 0,
    latencyUs: { p50: p99Us / 4, p90: p99Us / 2, p99: p99Us, p999: p99Us * 2, max: p99Us * 3, mean: p99Us / 4 }, curve: [],
  };
}

function phase(name: string, kind: 'none' | 'idle-connections', l: LoadResult | null, skipped?: string): PhaseResult {
  const attack = kind === 'none' ? { kind } : { kind, connections: 1 };
  return { name, description: '', attack, honest: l === null ? null : summarizeHonest(l), attacker: null, ...(skipped ? { skipped } : {}) };
}

t.test('the verdict: every honest request answered with a bid, or the run fails', async (t) => {
  const good = [phase('baseline', 'none', load({ 200: 100 }, 2_000)), phase('idle', 'idle-connections', load({ 200: 100 }, 6_000)), phase('baseline-after', 'none', load({ 200: 100 }, 4_000))];
  t.equal(applyBaselineRatios(good), 3, 'baseline p99 is the mean of the two baselines, in ms');
  t.same(good.map((p) => p.honest!.p99VsBaseline), [0.67, 2, 1.33]);
  t.same(verdict(good), []);
  t.match(phaseTable(good), /idle\s+100\s+100\.0%\s+0\s+1\.50\s+6\.00\s+12\.00\s+18\.00\s+2\.00x/);

  const shed = [phase('baseline', 'none', load({ 200: 97, 204: 3 }, 2_000))];
  t.match(verdict(shed), [/baseline: 3 of 100 honest requests not answered with a bid \(3 x 204\)/]);
  const lost = [phase('baseline', 'none', load({ 200: 90 }, 2_000, 95))];
  t.match(verdict(lost), [/10 of 100 .*10 unanswered/], 'requests due but never sent or answered count');
  const skipped = [phase('ops', 'idle-connections', null, 'no ops port')];
  t.same(verdict(skipped), [], 'a skipped phase is not a failure');
  t.match(phaseTable(skipped), /skipped: no ops port/);
  t.match(verdict([phase('x', 'none', null)]), [/no honest traffic/]);
});

t.test('the ops probe says why when nothing answers', async (t) => {
  t.match(await probeOps(await freePort()), /does not answer \/debug\/latency/);
  t.equal(await probeOps(null), 'no ops port configured');
});

t.test('every phase against a real bidder, small', async (t) => {
  const b = await startTestBidder({ testHooks: false });
  t.teardown(() => b.close());
  const plan = { ...attackPlan({ quick: true, rate: 100, phaseS: 0.5 }), leadInMs: 100, settleMs: 100 };
  const payloads = [Buffer.from(simpleBanner('honest'))];
  const { phases, baselineP99Ms } = await runPhases({ port: b.port, opsPort: b.opsPort }, plan, (durationS) =>
    runLoad({ port: b.port, rate: plan.rate, durationS, connections: 4, payloads, gzip: false }),
  );
  t.same(phases.map((p) => p.name), plan.phases.map((p) => p.name));
  t.ok(baselineP99Ms !== null && baselineP99Ms > 0);
  t.comment(phaseTable(phases));
  t.same(verdict(phases), [], 'every honest request was answered with a bid');
  for (const p of phases) {
    if (p.skipped !== undefined) continue;
    t.equal(p.honest!.due, 50, `${p.name}: 50 honest requests due`);
    t.ok(p.honest!.p99VsBaseline !== null, `${p.name}: p99 ratio`);
    if (p.attack.kind !== 'none') t.ok(p.attacker !== null && p.attacker.connections > 0, `${p.name}: the attack ran`);
  }
  const byName = new Map(phases.map((p) => [p.name, p]));
  t.ok((byName.get('gzip-bomb')!.attacker!.status[413] ?? 0) > 0, 'the bomb is refused as too large');
  t.ok((byName.get('every-media')!.attacker!.status[200] ?? 0) > 0, 'the 100-imp requests bid');
  const storm = byName.get('ops-latency-storm')!;
  if (storm.skipped === undefined) t.ok((storm.attacker!.status[200] ?? 0) > 0, 'the ops port answered the storm');
  else t.match(storm.skipped, /ops port/);
});
