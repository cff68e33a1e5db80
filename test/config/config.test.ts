import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfig, ENV_VARS, loadConfig, validateConfig } from '../../src/config/config';
import { readCpuBudget, type CpuBudget } from '../../src/util/cpu-budget';

const root = '/srv/bidder';

function writeConfig(obj: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'bidder-config-'));
  const file = join(dir, 'bidder.json');
  writeFileSync(file, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return file;
}

function errorsOf(env: NodeJS.ProcessEnv): string[] {
  const r = loadConfig(env, root);
  if (r.ok) throw new Error('expected errors, got a config');
  return r.errors;
}

function configOf(env: NodeJS.ProcessEnv) {
  const r = loadConfig(env, root);
  if (!r.ok) throw new Error(`unexpected errors: ${r.errors.join('; ')}`);
  return r.config;
}

t.test('defaults: valid as they are, paths under the root', async (t) => {
  const c = configOf({});
  t.same(c, defaultConfig(root));
  t.equal(c.server.port, 8080);
  t.equal(c.server.host, '0.0.0.0');
  t.equal(c.server.maxBodyBytes, 256 * 1024);
  t.equal(c.server.hardTimeoutMs, 1000);
  t.equal(c.pool.threads, readCpuBudget().cpus, 'sized from this machine\'s CPU budget');
  t.equal(c.pool.maxBatchSize, 64);
  t.equal(c.pool.atomics, 'sync');
  t.equal(c.bidding.campaignsFile, resolve(root, 'campaigns/sample-campaigns.json'));
  t.equal(c.model.dir, resolve(root, 'native-models'));
  t.equal(c.testHooks, false);
  t.same(validateConfig(defaultConfig(root)), []);
});

t.test('unrelated environment variables are ignored', async (t) => {
  const c = configOf({ PATH: '/bin', HOME: '/root', BIDDERX: '1', NODE_ENV: 'production' });
  t.equal(c.server.port, 8080);
});

t.test('file merge: sections merged key by key, relative paths against the file folder', async (t) => {
  const file = writeConfig({
    server: { port: 9001, host: '127.0.0.1' }, // test hooks need a loopback listener
    pool: { threads: 3, atomics: 'async' },
    bidding: { campaignsFile: 'data/campaigns.json', fxRates: { EUR: 0.9 } },
    model: { dir: '../models' },
    testHooks: true,
  });
  const dir = resolve(file, '..');
  const c = configOf({ BIDDER_CONFIG: file });
  t.equal(c.server.port, 9001);
  t.equal(c.server.host, '127.0.0.1');
  t.equal(c.server.opsHost, '0.0.0.0', 'keys not in the file keep their defaults');
  t.equal(c.pool.threads, 3);
  t.equal(c.pool.atomics, 'async');
  t.equal(c.pool.maxBatchSize, 64);
  t.same(c.bidding.fxRates, { EUR: 0.9 });
  t.equal(c.bidding.seatId, 'rtb-bidder');
  t.equal(c.bidding.campaignsFile, join(dir, 'data/campaigns.json'));
  t.equal(c.model.dir, resolve(dir, '../models'));
  t.equal(c.model.name, 'ctr-logreg');
  t.equal(c.testHooks, true);
});

t.test('file merge: absolute paths stay as written', async (t) => {
  const file = writeConfig({ bidding: { campaignsFile: '/abs/c.json' }, model: { dir: '/abs/models' } });
  const c = configOf({ BIDDER_CONFIG: file });
  t.equal(c.bidding.campaignsFile, '/abs/c.json');
  t.equal(c.model.dir, '/abs/models');
});

t.test('fxRates in the file replaces the default map (it is a value, not a section)', async (t) => {
  const file = writeConfig({ bidding: { fxRates: { EUR: 0.9, GBP: 0.8 } } });
  t.same(configOf({ BIDDER_CONFIG: file }).bidding.fxRates, { EUR: 0.9, GBP: 0.8 });
});

t.test('BIDDER_* environment overrides win over the file', async (t) => {
  const file = writeConfig({ server: { port: 9001, host: '127.0.0.1' }, pool: { threads: 3 }, model: { dir: 'm' } });
  const c = configOf({
    BIDDER_CONFIG: file,
    BIDDER_PORT: '9100',
    BIDDER_POOL_THREADS: '5',
    BIDDER_POOL_ATOMICS: 'disabled',
    BIDDER_FX_RATES: '{"EUR":0.5}',
    BIDDER_SEAT_ID: 'seat-9',
    BIDDER_TEST_HOOKS: 'true',
    BIDDER_MODEL_DIR: 'rel/models',
    BIDDER_CAMPAIGNS_FILE: 'rel/c.json',
  });
  t.equal(c.server.port, 9100);
  t.equal(c.server.host, '127.0.0.1', 'file value kept where no override');
  t.equal(c.pool.threads, 5);
  t.equal(c.pool.atomics, 'disabled');
  t.same(c.bidding.fxRates, { EUR: 0.5 });
  t.equal(c.bidding.seatId, 'seat-9');
  t.equal(c.testHooks, true);
  t.equal(c.model.dir, resolve(process.cwd(), 'rel/models'), 'env paths resolve against the working directory');
  t.equal(c.bidding.campaignsFile, resolve(process.cwd(), 'rel/c.json'));
});

t.test('every ENV_VARS entry lands on an existing config path', async (t) => {
  const c = defaultConfig(root) as unknown as Record<string, Record<string, unknown>>;
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const parts = spec.path.split('.');
    const value = parts.length === 1 ? c[parts[0]] : c[parts[0]]?.[parts[1]];
    t.not(value, undefined, `${name} -> ${spec.path}`);
  }
});

t.test('bool parsing', async (t) => {
  t.equal(configOf({ BIDDER_TEST_HOOKS: '1', BIDDER_HOST: '127.0.0.1' }).testHooks, true);
  t.equal(configOf({ BIDDER_TEST_HOOKS: '0' }).testHooks, false);
  t.equal(configOf({ BIDDER_TEST_HOOKS: 'false' }).testHooks, false);
  const errs = errorsOf({ BIDDER_TEST_HOOKS: 'yes' });
  t.ok(errs.some((e) => e.startsWith('BIDDER_TEST_HOOKS')), errs.join('; '));
});

t.test('test hooks only on a loopback bidding listener', async (t) => {
  for (const host of ['127.0.0.1', '127.3.4.5', '::1', '0:0:0:0:0:0:0:1', 'localhost', 'LOCALHOST']) {
    t.equal(configOf({ BIDDER_TEST_HOOKS: '1', BIDDER_HOST: host }).testHooks, true, `${host} is loopback`);
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.7', '128.0.0.1', '::ffff:127.0.0.1', 'bidder.internal', '127.0.0.1.example.com']) {
    const errs = errorsOf({ BIDDER_TEST_HOOKS: '1', BIDDER_HOST: host });
    t.ok(
      errs.includes(`testHooks: only with a loopback server.host (127.0.0.0/8, ::1, localhost), got ${JSON.stringify(host)}`),
      `${host}: refused (${errs.join('; ')})`,
    );
  }
  const file = writeConfig({ testHooks: true, server: { port: 70000 } });
  const errs = errorsOf({ BIDDER_CONFIG: file });
  t.ok(errs.some((e) => e.startsWith('testHooks: only with a loopback server.host')), 'from a file, on the default host 0.0.0.0');
  t.ok(errs.some((e) => e.startsWith('server.port')), 'listed with the other errors');
  t.equal(configOf({ BIDDER_HOST: '0.0.0.0' }).testHooks, false, 'hooks off: any host');
});

t.test('every error is listed at once', async (t) => {
  const errs = errorsOf({
    BIDDER_PORT: 'abc',
    BIDDER_POOL_THREADS: '0',
    BIDDER_FOO: '1',
    BIDDER_FX_RATES: '{"eur":-1}',
  });
  t.ok(errs.length >= 4, errs.join('; '));
  const has = (re: RegExp, what: string) => t.ok(errs.some((e) => re.test(e)), `${what}: ${errs.join('; ')}`);
  has(/^BIDDER_PORT: expected an integer, got "abc"/, 'port');
  has(/^pool\.threads: must be an integer from 1 to 256, got 0/, 'threads');
  has(/^BIDDER_FOO: unknown BIDDER_\* variable/, 'unknown var');
  has(/^bidding\.fxRates\.eur: currency must be 3 upper-case letters/, 'fx currency');
  has(/^bidding\.fxRates\.eur: rate must be a positive number/, 'fx rate');
});

t.test('invalid JSON in BIDDER_FX_RATES and a non-object are errors', async (t) => {
  t.ok(errorsOf({ BIDDER_FX_RATES: '{nope' }).some((e) => e.startsWith('BIDDER_FX_RATES: not valid JSON')));
  t.ok(errorsOf({ BIDDER_FX_RATES: '[1,2]' }).some((e) => e.startsWith('bidding.fxRates: must be an object')));
  t.ok(errorsOf({ BIDDER_FX_RATES: '{"EUR":"1"}' }).some((e) => e === 'bidding.fxRates.EUR: rate must be a positive number'));
  t.ok(errorsOf({ BIDDER_FX_RATES: '{"EUR":0}' }).some((e) => e === 'bidding.fxRates.EUR: rate must be a positive number'));
});

t.test('integers: non-integers and out of range values are errors', async (t) => {
  t.ok(errorsOf({ BIDDER_PORT: '80.5' }).some((e) => e.startsWith('BIDDER_PORT: expected an integer')));
  t.ok(errorsOf({ BIDDER_PORT: '' }).some((e) => e.startsWith('BIDDER_PORT: expected an integer')));
  t.ok(errorsOf({ BIDDER_PORT: '70000' }).some((e) => e.startsWith('server.port: must be an integer from 0 to 65535')));
  t.ok(errorsOf({ BIDDER_HARD_TIMEOUT_MS: '5' }).some((e) => e.startsWith('server.hardTimeoutMs')));
  t.equal(configOf({ BIDDER_PORT: '0' }).server.port, 0, 'port 0 (ephemeral) is allowed');
});

t.test('unknown keys in the file are errors, at any depth', async (t) => {
  const file = writeConfig({ serverr: {}, server: { prot: 1 }, pool: { threads: 2, foo: true } });
  const errs = errorsOf({ BIDDER_CONFIG: file });
  t.ok(errs.includes('serverr: unknown setting'), errs.join('; '));
  t.ok(errs.includes('server.prot: unknown setting'), errs.join('; '));
  t.ok(errs.includes('pool.foo: unknown setting'), errs.join('; '));
});

t.test('keys inherited from Object.prototype are unknown settings too', async (t) => {
  // `key in base` also sees inherited names: "constructor" or "toString" would be accepted
  // silently and written onto the config object.
  const file = writeConfig({ server: { constructor: 1 }, toString: 2 });
  const r = loadConfig({ BIDDER_CONFIG: file }, root);
  t.equal(r.ok, false, 'must not load');
  if (!r.ok) {
    t.ok(r.errors.includes('server.constructor: unknown setting'), r.errors.join('; '));
    t.ok(r.errors.includes('toString: unknown setting'), r.errors.join('; '));
  }
});

t.test('a "__proto__" key in the file does not reach Object.prototype', async (t) => {
  const proto = Object.prototype as unknown as Record<string, unknown>;
  const originalValueOf = proto.valueOf;
  const file = writeConfig('{"__proto__": {"polluted": 1, "valueOf": 5}}');
  const r = loadConfig({ BIDDER_CONFIG: file }, root);
  const overwritten = proto.valueOf !== originalValueOf;
  // Put it back before asserting so a failure does not break the rest of the run.
  proto.valueOf = originalValueOf;
  delete proto.polluted;
  t.equal(overwritten, false, 'Object.prototype.valueOf must not be overwritten');
  t.equal(r.ok, false, '__proto__ is an unknown setting');
});

t.test('a section given as a non-object is an error', async (t) => {
  const errs = errorsOf({ BIDDER_CONFIG: writeConfig({ server: 5 }) });
  t.ok(errs.includes('server: expected an object'), errs.join('; '));
  t.ok(errorsOf({ BIDDER_CONFIG: writeConfig([1]) }).some((e) => e.includes('expected an object')));
});

t.test('an unreadable or malformed file is one error naming it', async (t) => {
  const missing = join(tmpdir(), 'definitely-missing-bidder-config.json');
  const errs = errorsOf({ BIDDER_CONFIG: missing });
  t.ok(errs.some((e) => e.startsWith(`BIDDER_CONFIG (${missing})`)), errs.join('; '));
  const bad = writeConfig('{ not json');
  t.ok(errorsOf({ BIDDER_CONFIG: bad }).some((e) => e.startsWith(`BIDDER_CONFIG (${bad})`)));
});

t.test('file values are type-checked by validation', async (t) => {
  const errs = errorsOf({ BIDDER_CONFIG: writeConfig({ server: { port: '8080' }, testHooks: 'yes', bidding: { seatId: '' } }) });
  t.ok(errs.some((e) => e.startsWith('server.port: must be an integer')), errs.join('; '));
  t.ok(errs.includes('testHooks: must be a boolean'));
  t.ok(errs.includes('bidding.seatId: must be a non-empty string'));
});

t.test('slabSegmentBytes below maxBodyBytes is an error', async (t) => {
  const errs = errorsOf({ BIDDER_POOL_SLAB_SEGMENT_BYTES: String(128 * 1024), BIDDER_MAX_BODY_BYTES: String(256 * 1024) });
  t.ok(errs.some((e) => e.startsWith('pool.slabSegmentBytes: must be at least server.maxBodyBytes')), errs.join('; '));
  const ok = configOf({ BIDDER_POOL_SLAB_SEGMENT_BYTES: String(256 * 1024), BIDDER_MAX_BODY_BYTES: String(256 * 1024) });
  t.equal(ok.pool.slabSegmentBytes, 256 * 1024, 'equal is enough');
});

t.test('atomics mode is validated', async (t) => {
  for (const m of ['sync', 'async', 'disabled']) t.equal(configOf({ BIDDER_POOL_ATOMICS: m }).pool.atomics, m);
  const errs = errorsOf({ BIDDER_POOL_ATOMICS: 'SYNC' });
  t.ok(errs.some((e) => e.startsWith('pool.atomics: must be one of sync, async, disabled, got "SYNC"')), errs.join('; '));
  const fileErrs = errorsOf({ BIDDER_CONFIG: writeConfig({ pool: { atomics: 1 } }) });
  t.ok(fileErrs.some((e) => e.startsWith('pool.atomics')), fileErrs.join('; '));
});

t.test('worker young generation: 6 MB by default, 0 for V8\'s default, bounded', async (t) => {
  t.equal(defaultConfig(root).pool.workerYoungGenerationMb, 6);
  t.equal(configOf({ BIDDER_POOL_WORKER_YOUNG_GENERATION_MB: '0' }).pool.workerYoungGenerationMb, 0);
  t.equal(configOf({ BIDDER_POOL_WORKER_YOUNG_GENERATION_MB: '48' }).pool.workerYoungGenerationMb, 48);
  for (const bad of ['-1', '2000', '1.5']) {
    const errs = errorsOf({ BIDDER_POOL_WORKER_YOUNG_GENERATION_MB: bad });
    t.ok(errs.some((e) => e.includes('WORKER_YOUNG_GENERATION_MB') || e.startsWith('pool.workerYoungGenerationMb')), `${bad}: ${errs.join('; ')}`);
  }
});

t.test('validateConfig reports each bad field once', async (t) => {
  const c = defaultConfig(root);
  c.pool.threads = 0;
  c.pool.maxBatchSize = 5000;
  c.server.host = '';
  const errs = validateConfig(c);
  t.equal(errs.length, 3, errs.join('; '));
});

/** A CPU budget as readCpuBudget would report it on a machine of `cpus` CPUs. */
function budgetOf(cpus: number, quota: number | null = null): CpuBudget {
  return { cpus, affinity: 64, quota, source: `test budget ${cpus}` };
}

function configWith(env: NodeJS.ProcessEnv, budget: CpuBudget) {
  const r = loadConfig(env, root, budget);
  if (!r.ok) throw new Error(`unexpected errors: ${r.errors.join('; ')}`);
  return r;
}

t.test('thread counts default to the CPU budget, not the host\'s cores', async (t) => {
  const two = configWith({}, budgetOf(2, 2)).config;
  t.equal(two.server.acceptors, 1, '2 CPUs: one acceptor, the pool gets the rest');
  t.equal(two.pool.threads, 2);
  const sixteen = configWith({}, budgetOf(16)).config;
  t.equal(sixteen.server.acceptors, 8);
  t.equal(sixteen.pool.threads, 16);
  t.equal(configWith({}, budgetOf(1)).config.server.acceptors, 1, 'never below one');
  t.equal(configWith({}, budgetOf(3)).config.server.acceptors, 1, 'half, rounded down');
  t.same(configWith({}, budgetOf(16)).config, defaultConfig(root, budgetOf(16)), 'loadConfig sizes from the budget it is given');
});

t.test('the budget the defaults came from is in the result, and no setting can change it', async (t) => {
  const budget = budgetOf(4, 3.5);
  const r = configWith({}, budget);
  t.same(r.cpuBudget, budget);
  t.notOk('cpuBudget' in r.config, 'not a config key');
  const errs = errorsOf({ BIDDER_CONFIG: writeConfig({ cpuBudget: { cpus: 64 } }), BIDDER_CPU_BUDGET: '64' });
  t.ok(errs.includes('cpuBudget: unknown setting'), errs.join('; '));
  t.ok(errs.includes('BIDDER_CPU_BUDGET: unknown BIDDER_* variable'), errs.join('; '));
});

t.test('acceptors and threads: set by file or environment, validated', async (t) => {
  const c = configWith({ BIDDER_ACCEPTORS: '3', BIDDER_POOL_THREADS: '5' }, budgetOf(2)).config;
  t.equal(c.server.acceptors, 3, 'an explicit count is not capped by the budget');
  t.equal(c.pool.threads, 5);
  t.equal(configWith({ BIDDER_CONFIG: writeConfig({ server: { acceptors: 2 } }) }, budgetOf(16)).config.server.acceptors, 2);
  t.equal(configWith({ BIDDER_ACCEPTORS: '256' }, budgetOf(2)).config.server.acceptors, 256);
  for (const bad of ['0', '257']) {
    const errs = errorsOf({ BIDDER_ACCEPTORS: bad });
    t.ok(errs.includes(`server.acceptors: must be an integer from 1 to 256, got ${bad}`), `${bad}: ${errs.join('; ')}`);
  }
  for (const bad of ['1.5', '', 'two']) {
    const errs = errorsOf({ BIDDER_ACCEPTORS: bad });
    t.ok(errs.includes(`BIDDER_ACCEPTORS: expected an integer, got "${bad}"`), `${JSON.stringify(bad)}: ${errs.join('; ')}`);
  }
  const fileErrs = errorsOf({ BIDDER_CONFIG: writeConfig({ server: { acceptors: 1.5 }, pool: { threads: 257 } }) });
  t.ok(fileErrs.includes('server.acceptors: must be an integer from 1 to 256, got 1.5'), fileErrs.join('; '));
  t.ok(fileErrs.includes('pool.threads: must be an integer from 1 to 256, got 257'), fileErrs.join('; '));
});

t.test('the loop-utilisation bound is gone: its variable and key are unknown', async (t) => {
  const errs = errorsOf({ BIDDER_POOL_INLINE_MAX_UTILIZATION: '0.9' });
  t.same(errs, ['BIDDER_POOL_INLINE_MAX_UTILIZATION: unknown BIDDER_* variable']);
  const fileErrs = errorsOf({ BIDDER_CONFIG: writeConfig({ pool: { inlineMaxUtilization: 0.9 } }) });
  t.same(fileErrs, ['pool.inlineMaxUtilization: unknown setting']);
});
