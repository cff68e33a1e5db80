/**
 * The admin API on the real bidder (operations port): with BIDDER_ADMIN_TOKEN_FILE every
 * /admin request needs its bearer token (401 with WWW-Authenticate otherwise, whatever the
 * length of a wrong one), a right one reaches the model registry (every action answers
 * what it did), unknown paths are 404, wrong methods 405, bad JSON 400;
 * every request is counted and logged on stderr without the token; without the file
 * the API is off (404 ADMIN_DISABLED); a bad token file refuses the start.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleValue, scrape, send, startTestBidder, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), 'admin-api-'));
const token = 'Zm9vYmFyLWFkbWluLXRva2VuLTAxMjM0NTY3';
const tokenFile = join(dir, 'admin-token');
writeFileSync(tokenFile, `${token}\n`);
const auth = { authorization: `Bearer ${token}` };

/** Everything this process writes on stderr (the front end writes the admin log lines there). */
const stderr: string[] = [];
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;
t.teardown(() => {
  process.stderr.write = write;
});

function adminLines(): Record<string, unknown>[] {
  return stderr
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"event":"admin"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const code = (body: string): string => (JSON.parse(body) as { code: string }).code;

let b: TestBidder;
t.before(async () => {
  b = await startTestBidder({ admin: { tokenFile }, pool: { threads: 1 } });
});
t.teardown(() => b?.close());

t.test('no token, a wrong one of any length, another scheme: 401 with WWW-Authenticate', async (t) => {
  const sameLength = token.slice(0, -1) + (token.endsWith('7') ? '8' : '7');
  const cases: [string, Record<string, string>][] = [
    ['no Authorization', {}],
    ['wrong token, same length', { authorization: `Bearer ${sameLength}` }],
    ['wrong token, shorter', { authorization: `Bearer ${token.slice(0, 16)}` }],
    ['wrong token, longer', { authorization: `Bearer ${token}${token}` }],
    ['Basic scheme', { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` }],
    ['the token without a scheme', { authorization: token }],
  ];
  for (const [what, headers] of cases) {
    for (const [method, path] of [['GET', '/admin/models'], ['POST', '/admin/models/reload'], ['GET', '/admin/nope']]) {
      const r = await send(b.opsPort, method, path, method === 'POST' ? '{}' : undefined, headers);
      t.equal(r.status, 401, `${what}: ${method} ${path}`);
      t.equal(r.headers['www-authenticate'], 'Bearer realm="bidder-admin"');
      t.equal(code(r.body), 'ADMIN_UNAUTHORIZED');
    }
  }
});

t.test('the right token reaches the model registry: every action answers', async (t) => {
  const actions: [string, string, string | undefined, object][] = [
    ['GET', '/admin/models', undefined, { active: 'ctr-logreg@1.0.0' }],
    ['POST', '/admin/models/reload', '{}', { loaded: [] }],
    ['POST', '/admin/models/activate', '{"model":"ctr-mlp"}', { active: 'ctr-mlp@1.1.0', previous: 'ctr-logreg@1.0.0' }],
    ['POST', '/admin/models/shadow', '{"model":"ctr-dnn"}', { shadow: { model: 'ctr-dnn@1.0.0' } }],
    ['POST', '/admin/models/canary', '{"model":null}', { canary: null }],
    ['GET', '/admin/experiments', undefined, { experiments: [] }],
    ['POST', '/admin/experiments/reload', '{}', { experiments: [] }],
  ];
  for (const [method, path, body, want] of actions) {
    const r = await send(b.opsPort, method, path, body, auth);
    t.equal(r.status, 200, `${method} ${path}`);
    t.match(JSON.parse(r.body), want, `${method} ${path} answers what it did`);
  }
  const lower = await send(b.opsPort, 'POST', '/admin/models/reload', undefined, { authorization: `bearer ${token}` });
  t.equal(lower.status, 200, 'the scheme in lower case; an empty body is {}');
});

t.test('unknown path 404, wrong method 405, bad JSON 400, a body over 64 KiB 413', async (t) => {
  for (const path of ['/admin', '/admin/nope', '/admin/models/reload/now']) {
    const r = await send(b.opsPort, 'GET', path, undefined, auth);
    t.same([r.status, code(r.body)], [404, 'NOT_FOUND'], path);
  }
  const get = await send(b.opsPort, 'GET', '/admin/models/reload', undefined, auth);
  t.same([get.status, code(get.body), get.headers.allow], [405, 'METHOD_NOT_ALLOWED', 'POST'], 'GET on a POST path');
  const post = await send(b.opsPort, 'POST', '/admin/models', '{}', auth);
  t.same([post.status, post.headers.allow], [405, 'GET'], 'POST on a GET path');
  const bad = await send(b.opsPort, 'POST', '/admin/models/activate', '{"model":', auth);
  t.same([bad.status, code(bad.body)], [400, 'BAD_JSON']);
  const big = await send(b.opsPort, 'POST', '/admin/models/activate', JSON.stringify({ pad: 'x'.repeat(65 * 1024) }), auth);
  t.same([big.status, code(big.body)], [413, 'BODY_TOO_LARGE']);
  t.equal((await send(b.port, 'GET', '/admin/models', undefined, auth)).status, 404, 'no admin API on the bidding port');
});

t.test('counted by action and result; label values there before traffic', async (t) => {
  const text = await scrape(b.opsPort);
  const v = (action: string, result: string): number | undefined => sampleValue(text, 'bidder_admin_requests_total', { action, result });
  t.equal(v('models.list', 'unauthorized'), 6, 'GET /admin/models refused six times');
  t.equal(v('models.reload', 'unauthorized'), 6);
  t.equal(v('unknown', 'unauthorized'), 6, 'an unknown path is refused first for want of a token');
  t.equal(v('models.list', 'ok'), 1);
  t.equal(v('models.reload', 'ok'), 2);
  t.equal(v('experiments.reload', 'ok'), 1);
  t.equal(v('unknown', 'not_found'), 3);
  t.equal(v('unknown', 'method_not_allowed'), 2);
  t.equal(v('models.activate', 'bad_request'), 2, 'bad JSON and a body too large');
  t.equal(v('models.canary', 'error'), 0, 'created at 0');
  t.equal(v('experiments.list', 'timeout'), 0);
  t.equal(v('models.list', 'disabled'), undefined, 'no disabled series while the API is on');
});

t.test('one JSON line on stderr per admin request, never the token', async (t) => {
  const until = Date.now() + 5_000;
  while (adminLines().length < 18 + 8 + 7 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  const lines = adminLines();
  t.equal(lines.length, 18 + 8 + 7, 'every admin request so far');
  t.match(lines.find((l) => l.action === 'models.reload' && l.status === 200), {
    time: String,
    method: 'POST',
    path: '/admin/models/reload',
    result: 'ok',
    durationMs: Number,
    remote: /\S/,
  });
  const all = stderr.join('');
  t.notMatch(all, token, 'the token never reaches stderr');
  t.notMatch(all, token.slice(0, 16), 'nor a prefix of it (the shorter wrong token)');
  t.notMatch(all, /authorization|bearer/i, 'nor the header');
});

t.test('without BIDDER_ADMIN_TOKEN_FILE the admin API is off: 404 ADMIN_DISABLED', async (t) => {
  const off = await startTestBidder({ pool: { threads: 1 } });
  t.teardown(() => off.close());
  for (const [method, path] of [['GET', '/admin/models'], ['POST', '/admin/models/reload'], ['GET', '/admin/nope']]) {
    const r = await send(off.opsPort, method, path, undefined, auth);
    t.same([r.status, code(r.body)], [404, 'ADMIN_DISABLED'], `${method} ${path}`);
  }
  const text = await scrape(off.opsPort);
  t.equal(sampleValue(text, 'bidder_admin_requests_total', { action: 'models.list', result: 'disabled' }), 1);
  t.equal(sampleValue(text, 'bidder_admin_requests_total', { action: 'unknown', result: 'disabled' }), 1);
  t.equal((await send(off.opsPort, 'GET', '/metrics')).status, 200);
});

t.test('a token file too short or unreadable refuses the start with its code', async (t) => {
  const short = join(dir, 'short');
  writeFileSync(short, 'short-token\n');
  await t.rejects(startTestBidder({ admin: { tokenFile: short } }), { code: 'ADMIN_TOKEN_TOO_SHORT' });
  await t.rejects(startTestBidder({ admin: { tokenFile: join(dir, 'missing') } }), { code: 'ADMIN_TOKEN_UNREADABLE' });
});
