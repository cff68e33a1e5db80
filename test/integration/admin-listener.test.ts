/**
 * The admin API's transport on a bare operations listener with fake handlers: an action
 * runs on this thread (the front end) and its answer goes back by id, several at a time;
 * a slow action never holds /metrics; a handler that throws is a 500 whose message is
 * logged and not sent; no answer in time is a 504; bodies arrive parsed and capped; each
 * request is one log line without the token.
 */
import t from 'tap';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { StageLatency } from '../../src/metrics/latency';
import { kMaxSlots } from '../../src/metrics/shared-metrics';
import type { AdminAction, AdminHandler, AdminResult } from '../../src/ops/admin-protocol';
import { tokenDigest } from '../../src/ops/admin-token';
import { OpsListener, type OpsListenerOptions } from '../../src/ops/ops-listener';
import { rawExchange, sampleValue, scrape, send, withTimeout, type TapTest } from '../helpers/test-bidder';

t.setTimeout(60_000);

const token = 'listener-test-token-0123456789';
const auth = { authorization: `Bearer ${token}` };

function options(admin: AdminHandler | undefined, extra: Partial<OpsListenerOptions> = {}): OpsListenerOptions {
  const layout = buildMetricsLayout(new OutcomeTable(ALL_ERROR_CODES), kMaxSlots - 1);
  const zero = (): number => 0;
  return {
    host: '127.0.0.1',
    port: 0,
    metrics: layout.allocate(),
    model: { name: 'm', version: '1.0.0' },
    latency: new StageLatency(),
    gauges: { requestsInFlight: zero, pendingRequests: zero, queuedTasks: zero, inFlightBatches: zero, threads: zero, slabSegmentsInUse: zero, receivingBytes: zero },
    admin,
    adminTokenDigest: tokenDigest(token),
    ...extra,
  };
}

/** A handler whose calls wait until the test settles them. */
class HeldHandler implements AdminHandler {
  calls: { action: AdminAction; body: unknown; settle: (r: AdminResult | Error) => void }[] = [];
  private arrived: (() => void)[] = [];
  handle(action: AdminAction, body: unknown): Promise<AdminResult> {
    return new Promise((resolve, reject) => {
      this.calls.push({ action, body, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      for (const w of this.arrived.splice(0)) w();
    });
  }
  async waitFor(n: number): Promise<void> {
    while (this.calls.length < n) await withTimeout(new Promise<void>((r) => this.arrived.push(r)), 5_000, `call ${n}`);
  }
}

interface Started {
  ops: OpsListener;
  lines: string[];
}

async function start(t: TapTest, admin: AdminHandler | undefined, extra: Partial<OpsListenerOptions> = {}): Promise<Started> {
  const lines: string[] = [];
  const ops = await OpsListener.start(options(admin, { adminLog: (l) => lines.push(l), ...extra }));
  t.teardown(() => ops.close());
  ops.setReady();
  return { ops, lines };
}

/** Log lines come from the operations thread after its answer: wait for them. */
async function linesAtLeast(lines: string[], n: number): Promise<void> {
  const until = Date.now() + 5_000;
  while (lines.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
}

const code = (body: string): string => (JSON.parse(body) as { code: string }).code;

t.test('a slow action holds neither /metrics nor the other routes', async (t) => {
  const handler = new HeldHandler();
  const { ops } = await start(t, handler);
  const pending = send(ops.port, 'POST', '/admin/models/reload', '{"model":"ctr-mlp"}', auth);
  await handler.waitFor(1);
  t.same(handler.calls[0].body, { model: 'ctr-mlp' }, 'the parsed body reached the handler');
  for (let i = 0; i < 3; i++) {
    const started = Date.now();
    const m = await send(ops.port, 'GET', '/metrics');
    t.equal(m.status, 200, `/metrics answers while the action is pending (${Date.now() - started} ms)`);
    t.ok(Date.now() - started < 1_000, 'and promptly');
  }
  t.equal((await send(ops.port, 'GET', '/readyz')).status, 200, '/readyz too');
  handler.calls[0].settle({ status: 200, body: { reloaded: 'ctr-mlp' } });
  const r = await pending;
  t.same([r.status, JSON.parse(r.body)], [200, { reloaded: 'ctr-mlp' }], "the handler's answer, once it comes");
  t.match(String(r.headers['content-type']), /application\/json/);
});

t.test('several actions in flight: each answer finds its request', async (t) => {
  const handler = new HeldHandler();
  const { ops } = await start(t, handler);
  const paths: [string, string, AdminAction][] = [
    ['GET', '/admin/models', 'models.list'],
    ['POST', '/admin/models/activate', 'models.activate'],
    ['POST', '/admin/models/shadow', 'models.shadow'],
    ['GET', '/admin/experiments', 'experiments.list'],
  ];
  const answers = paths.map(([method, path], i) => send(ops.port, method, path, method === 'POST' ? JSON.stringify({ n: i }) : undefined, auth));
  await handler.waitFor(paths.length);
  t.same(handler.calls.map((c) => c.action).sort(), paths.map((p) => p[2]).sort(), 'every action forwarded');
  // Answered in reverse order of arrival, each with what it was asked.
  for (const c of [...handler.calls].reverse()) c.settle({ status: 200, body: { action: c.action, body: c.body } });
  const got = await Promise.all(answers);
  paths.forEach(([method, , action], i) => {
    t.equal(got[i].status, 200);
    t.same(JSON.parse(got[i].body), { action, body: method === 'POST' ? { n: i } : {} }, `${action}: its own answer`);
  });
});

t.test('a handler that throws or rejects: 500 INTERNAL, the message logged and not sent', async (t) => {
  const secret = 'while reading /secret/place: boom';
  const handler: AdminHandler = {
    handle(action) {
      if (action === 'models.list') throw new Error(secret);
      if (action === 'experiments.list') return Promise.reject(new Error(secret));
      if (action === 'models.canary') return Promise.resolve({ status: 99, body: {} });
      return Promise.resolve({ status: 200, body: { n: 1n } as unknown });
    },
  };
  const { ops, lines } = await start(t, handler);
  for (const [method, path, what] of [
    ['GET', '/admin/models', 'a throw'],
    ['GET', '/admin/experiments', 'a rejection'],
    ['POST', '/admin/models/canary', 'a status out of range'],
    ['POST', '/admin/models/reload', 'a body JSON cannot carry'],
  ]) {
    const r = await send(ops.port, method, path, undefined, auth);
    t.same([r.status, JSON.parse(r.body)], [500, { code: 'INTERNAL', message: 'internal error' }], what);
    t.notMatch(r.body, 'secret', 'nothing of the failure sent');
  }
  await linesAtLeast(lines, 4);
  t.equal(lines.length, 4, 'one line each');
  const logged = lines.map((l) => JSON.parse(l) as { status: number; result: string; error?: string });
  t.match(logged[0], { status: 500, result: 'error', error: secret }, 'the message is logged');
  t.match(logged[1], { status: 500, result: 'error', error: secret });
  t.match(logged[2].error, /status 99/);
  t.match(logged[3].error, /not JSON/);
  t.equal(sampleValue(await scrape(ops.port), 'bidder_admin_requests_total', { action: 'models.list', result: 'error' }), 1);
});

t.test('no answer in time: 504 ADMIN_TIMEOUT, and a late answer is dropped', async (t) => {
  const handler = new HeldHandler();
  const { ops, lines } = await start(t, handler, { adminTimeoutMs: 300 });
  const started = Date.now();
  const r = await send(ops.port, 'POST', '/admin/experiments/reload', '', auth);
  t.same([r.status, code(r.body)], [504, 'ADMIN_TIMEOUT'], `after ${Date.now() - started} ms`);
  t.same(handler.calls[0].body, {}, 'an empty body is {}');
  handler.calls[0].settle({ status: 200, body: {} });
  await new Promise((r) => setTimeout(r, 50));
  t.equal((await send(ops.port, 'GET', '/healthz')).status, 200, 'the late answer broke nothing');
  t.equal(sampleValue(await scrape(ops.port), 'bidder_admin_requests_total', { action: 'experiments.reload', result: 'timeout' }), 1);
  await linesAtLeast(lines, 1);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(lines.length, 1, 'logged once');
});

t.test('bodies: parsed, bad JSON refused before forwarding, capped at 64 KiB', async (t) => {
  const handler: AdminHandler = { handle: async (action, body) => ({ status: 200, body: { action, body } }) };
  let calls = 0;
  const counting: AdminHandler = { handle: (a, b) => (calls++, handler.handle(a, b)) };
  const { ops } = await start(t, counting);
  const ok = await send(ops.port, 'POST', '/admin/models/activate', '  {"model":"ctr-dnn","weights":[1,2]}\n', auth);
  t.same(JSON.parse(ok.body), { action: 'models.activate', body: { model: 'ctr-dnn', weights: [1, 2] } });
  for (const bad of ['{', '{"a":}', 'nul', '\u00ff']) {
    const r = await send(ops.port, 'POST', '/admin/models/activate', bad, auth);
    t.same([r.status, code(r.body)], [400, 'BAD_JSON'], JSON.stringify(bad));
  }
  t.equal(calls, 1, 'bad JSON never reached the handler');
  const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
  const declared = await send(ops.port, 'POST', '/admin/models/activate', big, auth);
  t.same([declared.status, code(declared.body)], [413, 'BODY_TOO_LARGE'], 'a declared length over the cap');
  // Chunked: refused once the bytes received pass the cap.
  const chunk = 'x'.repeat(16 * 1024);
  const head = `POST /admin/models/activate HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ntransfer-encoding: chunked\r\n\r\n`;
  const chunks = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  const raw = await rawExchange(ops.port, [head, ...chunks, '0\r\n\r\n'], { gapMs: 10 });
  t.equal(raw.status, 413, 'a chunked body passing the cap');
  t.match(raw.text, /BODY_TOO_LARGE/);
  t.equal(calls, 1, 'nor did a body over the cap');
  const deep = await send(ops.port, 'POST', '/admin/models/activate', '['.repeat(30_000) + ']'.repeat(30_000), auth);
  t.same([deep.status, code(deep.body)], [400, 'TOO_DEEP'], 'nesting past 64 (postMessage could not copy it)');
  const nested = '{"a":'.repeat(64) + '"[[[[{{"' + '}'.repeat(64);
  t.equal((await send(ops.port, 'POST', '/admin/models/activate', nested, auth)).status, 200, '64 levels pass; brackets in strings do not count');
  t.equal((await send(ops.port, 'GET', '/healthz')).status, 200);
});

t.test('each request is one log line: what, who, how long; never the token', async (t) => {
  const { ops, lines } = await start(t, { handle: async () => ({ status: 204, body: undefined }) });
  const r = await send(ops.port, 'POST', '/admin/models/reload', '{"password":"hunter2"}', auth);
  t.same([r.status, r.body], [204, ''], 'an answer without a body');
  await send(ops.port, 'GET', '/admin/models', undefined, { authorization: `Bearer ${token.slice(0, -1)}` });
  await linesAtLeast(lines, 2);
  t.equal(lines.length, 2);
  const [ok, refused] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(ok, { event: 'admin', method: 'POST', path: '/admin/models/reload', action: 'models.reload', status: 204, result: 'ok', remote: /\S/ });
  t.ok(typeof ok.durationMs === 'number' && (ok.durationMs as number) >= 0, `durationMs ${ok.durationMs}`);
  t.ok(!Number.isNaN(Date.parse(ok.time as string)), `time ${ok.time}`);
  t.match(refused, { method: 'GET', action: 'models.list', status: 401, result: 'unauthorized' });
  for (const l of lines) {
    t.notMatch(l, token.slice(0, 12), 'no token (nor a wrong one)');
    t.notMatch(l, /bearer|authorization|hunter2/i, 'no header, no body');
  }
});

t.test('admin off: without a handler or a digest; a digest of the wrong size is refused', async (t) => {
  const { ops } = await start(t, undefined);
  const r = await send(ops.port, 'GET', '/admin/models', undefined, auth);
  t.same([r.status, code(r.body)], [404, 'ADMIN_DISABLED'], 'no handler');
  const text = await scrape(ops.port);
  t.equal(sampleValue(text, 'bidder_admin_requests_total', { action: 'models.list', result: 'disabled' }), 1);
  t.equal(sampleValue(text, 'bidder_admin_requests_total', { action: 'models.reload', result: 'disabled' }), 0, 'created before traffic');
  t.equal(sampleValue(text, 'bidder_admin_requests_total', { action: 'models.list', result: 'ok' }), undefined, 'no other results while off');
  const noDigest = await start(t, { handle: async () => ({ status: 200, body: {} }) }, { adminTokenDigest: undefined });
  t.equal((await send(noDigest.ops.port, 'GET', '/admin/models', undefined, auth)).status, 404, 'no digest');
  await t.rejects(OpsListener.start(options(undefined, { adminTokenDigest: Buffer.alloc(16) })), RangeError);
});
