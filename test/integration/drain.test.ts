/**
 * The real process (`node dist/src/main.js`): SIGTERM drains (every request already
 * received is answered, exit code 0, the port closes), and start-up refuses bad config,
 * bad campaigns and a tampered model with a non-zero exit and every error on stderr.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canConnect, freePort, postBid, REPO_ROOT, sampleValue, scrape, send, withTimeout } from '../helpers/test-bidder';
import { simpleBanner } from '../helpers/requests';
import { kDrainQuietMs } from '../../src/server/acceptor';

t.setTimeout(60_000);

const MAIN = resolve(REPO_ROOT, 'dist/src/main.js');

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts main.js with only the given BIDDER_* variables (none inherited from this process). */
function startMain(env: Record<string, string>): Child {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BIDDER_')) clean[k] = v;
  const proc = spawn(process.execPath, [MAIN], { cwd: REPO_ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.on('exit', (code, signal) => r({ code, signal })),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}

const children: ChildProcess[] = [];
t.teardown(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function waitReady(port: number, child: Child, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.proc.exitCode !== null) throw new Error(`bidder exited early: ${child.stderr()}`);
    try {
      if ((await send(port, 'GET', '/readyz')).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready within ${ms} ms: ${child.stderr()}`);
}

t.test('SIGTERM answers what is in flight, exits 0, and closes the port', async (t) => {
  const port = await freePort();
  const opsPort = await freePort();
  const child = startMain({
    BIDDER_PORT: String(port),
    BIDDER_HOST: '127.0.0.1',
    BIDDER_OPS_PORT: String(opsPort),
    BIDDER_OPS_HOST: '127.0.0.1',
    BIDDER_TEST_HOOKS: '1',
    BIDDER_POOL_THREADS: '2',
    // However the five land in batches (up to 5 x 300 ms on one worker), none may be shed
    // by the queue bound or the hard timeout: this test is about the drain alone.
    BIDDER_POOL_MAX_QUEUE_DELAY_MS: '5000',
    BIDDER_HARD_TIMEOUT_MS: '5000',
  });
  children.push(child.proc);
  await waitReady(port, child, 30_000);
  t.equal((await postBid(port, simpleBanner('warm'))).status, 200, 'bids before the drain');

  // Open five keep-alive connections first so the five bids below go out at once.
  await Promise.all(Array.from({ length: 5 }, () => send(port, 'GET', '/healthz')));
  const sentAt = Date.now();
  const inFlight = Array.from({ length: 5 }, (_, i) =>
    postBid(port, simpleBanner(`drain-${i}`), { 'x-test-delay-ms': '300' }).then(
      (r) => ({ status: r.status as number | string, ms: Date.now() - sentAt }),
      (e: Error) => ({ status: `error: ${e.message}`, ms: Date.now() - sentAt }),
    ),
  );
  // Wait until the bidder holds all five (they then sit in a worker for 300 ms or more), so
  // none of them can arrive after the drain began however slow this machine is.
  const heldBy = Date.now() + 5_000;
  while ((sampleValue(await scrape(opsPort), 'bidder_requests_in_flight') ?? 0) < 5 && Date.now() < heldBy) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const signalledAt = Date.now();
  child.proc.kill('SIGTERM');

  const answers = await withTimeout(Promise.all(inFlight), 10_000, 'in-flight requests during drain');
  t.comment(`answers: ${JSON.stringify(answers)}`);
  t.ok(
    answers.every((a) => a.status === 200 || a.status === 204),
    `all 5 in-flight requests answered 200/204: ${JSON.stringify(answers.map((a) => a.status))}`,
  );
  // A request refused as "draining" would be answered at once; these waited for a worker.
  t.ok(answers.every((a) => a.ms >= 250), 'each was held by a worker, not turned away by the drain');
  t.ok(answers.every((a) => a.status === 200), 'the drain let the workers finish and bid on all five');
  const exit = await withTimeout(child.exited, 15_000, 'process exit after SIGTERM');
  t.equal(exit.code, 0, `exit code 0 (signal ${exit.signal}, stderr: ${child.stderr().slice(0, 300)})`);
  t.match(child.stdout(), /draining/, 'logged the drain');
  t.comment(`drained and exited ${Date.now() - signalledAt} ms after SIGTERM`);
  t.equal(await canConnect(port), false, 'no connection after exit');
  t.equal(await canConnect(opsPort), false, 'nor on the operations port');
});

/** One keep-alive connection: write a request, read one whole answer (head and body). */
class KeptAlive {
  private buf = '';
  private waiter: (() => void) | null = null;
  closed = false;
  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<KeptAlive> {
    return new Promise((res, rej) => {
      const s = connect({ host: '127.0.0.1', port }, () => res(new KeptAlive(s)));
      s.once('error', rej);
    });
  }

  /** The next answer's head, or null when the connection closed without one. */
  async exchange(request: string, ms: number): Promise<string | null> {
    this.buf = '';
    this.socket.write(request);
    const until = Date.now() + ms;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buf.length >= end + 4 + length) return head;
      }
      if (this.closed || Date.now() > until) return null;
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 20);
      });
    }
  }
}

t.test('SIGTERM: a request written on a kept-alive connection during the drain gets a 204 and a close, not a reset', async (t) => {
  const port = await freePort();
  const child = startMain({
    BIDDER_PORT: String(port), BIDDER_HOST: '127.0.0.1', BIDDER_OPS_PORT: String(await freePort()), BIDDER_OPS_HOST: '127.0.0.1', BIDDER_POOL_THREADS: '1',
  });
  children.push(child.proc);
  await waitReady(port, child, 30_000);
  const body = simpleBanner('kept-alive');
  const bid = `POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  // An exchange's connection: used before the SIGTERM, idle when it comes, used again
  // while the load balancer has not yet taken this instance out.
  const conn = await KeptAlive.open(port);
  t.match(await conn.exchange(bid, 5_000), /^HTTP\/1\.1 200/, 'bids before the drain');
  child.proc.kill('SIGTERM');
  // Well inside the drain's quiet spell (kDrainQuietMs), however fast the pool closes.
  await new Promise((r) => setTimeout(r, kDrainQuietMs / 2));
  const head = await conn.exchange(bid, 5_000);
  t.not(head, null, 'answered, not lost on a connection closed under it');
  t.match(head ?? '', /^HTTP\/1\.1 204/, 'a no-bid');
  t.match(head ?? '', /\r\nconnection: *close/i, 'saying the connection closes, so the client sends elsewhere');
  const exit = await withTimeout(child.exited, 15_000, 'process exit after SIGTERM');
  t.equal(exit.code, 0, 'exit code 0');
});

async function refusal(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = startMain(env);
  children.push(child.proc);
  const exit = await withTimeout(child.exited, 20_000, 'refusing start-up');
  return { code: exit.code, stderr: child.stderr() };
}

t.test('start-up refuses bad configuration', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'bidder-drain-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const port = String(await freePort());
  const base = { BIDDER_HOST: '127.0.0.1', BIDDER_PORT: port, BIDDER_OPS_HOST: '127.0.0.1', BIDDER_OPS_PORT: String(await freePort()), BIDDER_POOL_THREADS: '1' };

  await t.test('BIDDER_PORT=abc', async (t) => {
    const r = await refusal({ ...base, BIDDER_PORT: 'abc', BIDDER_POOL_THREADS: '0' });
    t.not(r.code, 0, `non-zero exit (${r.code})`);
    t.match(r.stderr, /BIDDER_PORT/, 'names BIDDER_PORT');
    t.match(r.stderr, /abc/, 'quotes the bad value');
    t.match(r.stderr, /pool\.threads/, 'every config error listed in one pass (pool.threads too)');
  });

  await t.test('BIDDER_MODEL=nope', async (t) => {
    const r = await refusal({ ...base, BIDDER_MODEL: 'nope' });
    t.not(r.code, 0, `non-zero exit (${r.code})`);
    t.match(r.stderr, /MODEL_NOT_FOUND/, 'MODEL_NOT_FOUND');
  });

  await t.test('a campaign file with two errors', async (t) => {
    const sample = JSON.parse(readFileSync(resolve(REPO_ROOT, 'campaigns/sample-campaigns.json'), 'utf8')) as {
      campaigns: Record<string, unknown>[];
    };
    sample.campaigns[0].maxCpmUsd = -1;
    sample.campaigns[1].iabCategories = ['not-a-category'];
    const file = join(tmp, 'campaigns-2-errors.json');
    writeFileSync(file, JSON.stringify(sample));
    const r = await refusal({ ...base, BIDDER_CAMPAIGNS_FILE: file });
    t.not(r.code, 0, `non-zero exit (${r.code})`);
    t.match(r.stderr, /CAMPAIGNS_INVALID/, 'CAMPAIGNS_INVALID');
    t.match(r.stderr, /campaigns\[0\]\.maxCpmUsd/, 'first error listed');
    t.match(r.stderr, /campaigns\[1\]\.iabCategories\[0\]/, 'second error listed');
  });

  await t.test('a model whose bytes were altered', async (t) => {
    const dir = join(tmp, 'models');
    mkdirSync(dir);
    for (const f of readdirSync(resolve(REPO_ROOT, 'native-models'))) {
      if (f.endsWith('.onnx') || f.endsWith('.json')) copyFileSync(resolve(REPO_ROOT, 'native-models', f), join(dir, f));
    }
    const onnx = join(dir, 'ctr-logreg@1.0.0.onnx');
    const bytes = readFileSync(onnx);
    bytes[bytes.length >> 1] ^= 0x01;
    writeFileSync(onnx, bytes);
    const r = await refusal({ ...base, BIDDER_MODEL_DIR: dir });
    t.not(r.code, 0, `non-zero exit (${r.code})`);
    t.match(r.stderr, /MODEL_SHA256_MISMATCH/, 'MODEL_SHA256_MISMATCH');

    // The untouched copy starts: the refusal above is the flipped byte's doing.
    copyFileSync(resolve(REPO_ROOT, 'native-models/ctr-logreg@1.0.0.onnx'), onnx);
    const okPort = await freePort();
    const child = startMain({ ...base, BIDDER_PORT: String(okPort), BIDDER_MODEL_DIR: dir });
    children.push(child.proc);
    await waitReady(okPort, child, 30_000);
    t.pass('the same directory with the original bytes starts');
    child.proc.kill('SIGTERM');
    t.equal((await withTimeout(child.exited, 15_000, 'exit')).code, 0, 'and drains cleanly');
  });
});
