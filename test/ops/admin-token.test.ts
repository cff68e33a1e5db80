/**
 * The admin token and the admin route table, without a server: the token file's trailing
 * newline is not token, a short, unreadable or unsendable token refuses the start with a
 * stable code, only its digest is kept, a presented token is compared by digest, and
 * every (method, path) routes to one action, a 405 or nothing.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STARTUP_ERRORS } from '../../src/errors';
import { ADMIN_ACTIONS, ADMIN_ROUTES, adminResultOf, matchAdmin } from '../../src/ops/admin-protocol';
import { bearerMatches, kMinAdminTokenBytes, loadAdminToken, tokenDigest } from '../../src/ops/admin-token';

const dir = mkdtempSync(join(tmpdir(), 'admin-token-'));
const token = 'a'.repeat(8) + 'B'.repeat(8) + '0123456789-._~+/=';
const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

t.test('no file: the admin API is off', async (t) => {
  t.same(loadAdminToken(''), { ok: true, digest: null });
  t.same(loadAdminToken(undefined), { ok: true, digest: null });
});

t.test('the digest of the token, less one trailing newline or CRLF', async (t) => {
  for (const [name, content] of [['plain', token], ['lf', `${token}\n`], ['crlf', `${token}\r\n`]]) {
    const r = loadAdminToken(file(name, content));
    t.ok(r.ok, name);
    if (r.ok) t.same(r.digest, sha(token), `${name}: SHA-256 of the token alone`);
  }
  const r = loadAdminToken(file('min', 'x'.repeat(kMinAdminTokenBytes)));
  t.ok(r.ok && r.digest !== null, `${kMinAdminTokenBytes} bytes are enough`);
  t.notOk('token' in r, 'the token itself is not kept');
});

t.test('too short, unreadable or unsendable: refused with a stable code, the token never in the message', async (t) => {
  const short = 'x'.repeat(kMinAdminTokenBytes - 1);
  const tooShort = loadAdminToken(file('short', `${short}\n`));
  t.match(tooShort, { ok: false, code: 'ADMIN_TOKEN_TOO_SHORT', message: /15 bytes, at least 16/ });
  t.notMatch(JSON.stringify(tooShort), short, 'the message does not show the token');
  t.match(loadAdminToken(file('empty', '')), { ok: false, code: 'ADMIN_TOKEN_TOO_SHORT' });
  t.match(loadAdminToken(file('newline-only', '\n')), { ok: false, code: 'ADMIN_TOKEN_TOO_SHORT' });
  t.match(loadAdminToken(join(dir, 'missing')), { ok: false, code: 'ADMIN_TOKEN_UNREADABLE', message: /missing/ });
  t.match(loadAdminToken(dir), { ok: false, code: 'ADMIN_TOKEN_UNREADABLE' }, 'a folder');
  const spaced = `${token} ${token}`;
  const invalid = loadAdminToken(file('spaced', spaced));
  t.match(invalid, { ok: false, code: 'ADMIN_TOKEN_INVALID' }, 'whitespace inside');
  t.notMatch(JSON.stringify(invalid), token);
  t.match(loadAdminToken(file('two-newlines', `${token}\n\n`)), { ok: false, code: 'ADMIN_TOKEN_INVALID' }, 'a second newline is not trimmed');
  t.match(loadAdminToken(file('binary', Buffer.alloc(32, 0xff))), { ok: false, code: 'ADMIN_TOKEN_INVALID' });
  for (const code of ['ADMIN_TOKEN_UNREADABLE', 'ADMIN_TOKEN_TOO_SHORT', 'ADMIN_TOKEN_INVALID']) t.ok(code in STARTUP_ERRORS, `${code} in the start-up table`);
});

t.test('a presented token matches by digest, in any length', async (t) => {
  const digest = tokenDigest(token);
  t.ok(bearerMatches(`Bearer ${token}`, digest));
  t.ok(bearerMatches(`bearer ${token}`, digest), 'the scheme in any case');
  t.ok(bearerMatches(`BEARER  ${token} `, digest), 'spaces around the token');
  const wrongSameLength = token.slice(0, -1) + (token.endsWith('=') ? 'x' : '=');
  for (const wrong of ['', 'Bearer', 'Bearer ', `Basic ${token}`, token, `Bearer ${wrongSameLength}`, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, 'Bearer x', `Bearer ${token} ${token}`]) {
    t.notOk(bearerMatches(wrong, digest), JSON.stringify(wrong));
  }
});

t.test('the route table: each action once; unknown paths and wrong methods', async (t) => {
  t.equal(new Set(ADMIN_ACTIONS).size, ADMIN_ROUTES.length, 'one route per action');
  t.same([...ADMIN_ACTIONS].sort(), ['experiments.list', 'experiments.reload', 'models.activate', 'models.canary', 'models.list', 'models.reload', 'models.shadow']);
  for (const r of ADMIN_ROUTES) {
    t.match(matchAdmin(r.method, r.path), { kind: 'action', route: { action: r.action } }, `${r.method} ${r.path}`);
    t.match(matchAdmin(r.method.toLowerCase(), r.path), { kind: 'action', route: { action: r.action } }, 'uWS gives the method in lower case');
    const other = r.method === 'GET' ? 'POST' : 'GET';
    t.same(matchAdmin(other, r.path), { kind: 'wrong-method', allow: r.method }, `${other} ${r.path}: 405`);
  }
  for (const path of ['/admin', '/admin/', '/admin/models/', '/admin/models/reload/x', '/admin/nope', '/Admin/models']) {
    t.same(matchAdmin('GET', path), { kind: 'unknown' }, path);
  }
});

t.test('result labels by status', async (t) => {
  t.same(
    [200, 202, 204, 400, 401, 404, 405, 409, 413, 422, 500, 501, 503, 504].map(adminResultOf),
    ['ok', 'ok', 'ok', 'bad_request', 'unauthorized', 'not_found', 'method_not_allowed', 'bad_request', 'bad_request', 'bad_request', 'error', 'not_implemented', 'error', 'timeout'],
  );
});
