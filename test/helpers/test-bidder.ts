/**
 * Starts the real bidder in-process on port 0 with the real pool and a real model, for
 * integration tests. Workers run the compiled JS in dist/ (npm test builds first).
 */
import { request as httpRequest, Agent } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBidder, type Bidder } from '../../src/bidder';
import { defaultConfig, type BidderConfig } from '../../src/config/config';

export const REPO_ROOT = resolve(__dirname, '../..');
/** The shared corpus beside the repository; absent on some machines. */
export { CORPUS_DIR } from './corpus';

export interface TestBidder {
  bidder: Bidder;
  port: number;
  /** The operations listener (/metrics, /debug/latency). */
  opsPort: number;
  url: string;
  close(): Promise<void>;
}

export type ConfigOverrides = {
  [K in keyof BidderConfig]?: BidderConfig[K] extends object ? Partial<BidderConfig[K]> : BidderConfig[K];
};

export async function startTestBidder(overrides: ConfigOverrides = {}): Promise<TestBidder> {
  const base = defaultConfig(REPO_ROOT);
  const config: BidderConfig = {
    server: { ...base.server, host: '127.0.0.1', port: 0, opsHost: '127.0.0.1', opsPort: 0, ...overrides.server },
    pool: { ...base.pool, threads: 2, ...overrides.pool },
    bidding: { ...base.bidding, ...overrides.bidding },
    model: { ...base.model, ...overrides.model },
    privacy: { ...base.privacy, ...overrides.privacy },
    admin: { ...base.admin, ...overrides.admin },
    experiments: { ...base.experiments, ...overrides.experiments },
    // Each test bidder logs events into a folder of its own, never into the repository.
    money: { ...base.money, eventsDir: mkdtempSync(join(tmpdir(), 'bidder-events-')), ...overrides.money },
    testHooks: overrides.testHooks ?? true,
  };
  const bidder = await startBidder(config);
  await bidder.ready;
  return {
    bidder,
    port: bidder.port,
    opsPort: bidder.opsPort,
    url: `http://127.0.0.1:${bidder.port}`,
    close: () => bidder.drain(),
  };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Per-request limit of send(): far above any answer the bidder should take. */
export const kRequestTimeoutMs = 10_000;

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

/** One HTTP request; resolves with status, headers and body text. */
export function send(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A hang must fail the test, not stall the run.
    req.setTimeout(kRequestTimeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${kRequestTimeoutMs} ms`)));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export function postBid(port: number, body: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  return send(port, 'POST', '/openrtb2/bid', body, headers);
}

/** Fails with a clear message instead of hanging when `p` does not settle within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface RawResult {
  /** Everything the server wrote before it closed the connection (or the wait ended). */
  text: string;
  status: number;
  /** Milliseconds from the first write to the first byte of the answer (-1 if none). */
  firstByteMs: number;
  /** True when the server closed the connection. */
  closed: boolean;
}

/**
 * Writes raw bytes on a fresh TCP connection and collects what comes back until the
 * server closes it, `idleMs` passes after the first answer bytes, or `maxMs` passes.
 * Write errors (EPIPE, ECONNRESET after the server refused a body) are expected here.
 */
export function rawExchange(
  port: number,
  parts: (string | Buffer)[],
  opts: { idleMs?: number; maxMs?: number; gapMs?: number } = {},
): Promise<RawResult> {
  const { idleMs = 200, maxMs = 5_000, gapMs = 0 } = opts;
  return new Promise((resolvePromise) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const started = Date.now();
    let firstByteMs = -1;
    let closed = false;
    let idle: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      clearTimeout(hard);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolvePromise({ text, status: m ? Number(m[1]) : 0, firstByteMs, closed });
    };
    const hard = setTimeout(finish, maxMs);
    socket.on('data', (c: Buffer) => {
      if (firstByteMs < 0) firstByteMs = Date.now() - started;
      chunks.push(c);
      clearTimeout(idle);
      idle = setTimeout(finish, idleMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      for (const p of parts) {
        if (socket.destroyed) return;
        socket.write(p);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolvePromise(port));
    });
  });
}

/** The Prometheus text of GET /metrics; `port` is the operations port (TestBidder.opsPort). */
export async function scrape(port: number): Promise<string> {
  const r = await send(port, 'GET', '/metrics');
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return r.body;
}

/**
 * The value of one sample in Prometheus text, matched by name and exact label set
 * (label order does not matter); undefined when the series is absent.
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_][a-zA-Z0-9_]*=")/)
      .filter((s) => s.length > 0)
      .sort()
      .join(',');
    if (got === want) return Number(m[3]);
  }
  return undefined;
}

/** POSTs many bodies with at most `concurrency` in flight; results in input order. */
export async function postMany(
  port: number,
  bodies: (string | Buffer)[],
  concurrency: number,
  headers: Record<string, string> = {},
): Promise<HttpResult[]> {
  const out: HttpResult[] = new Array(bodies.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < bodies.length) {
      const i = next++;
      out[i] = await postBid(port, bodies[i], headers);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, lane));
  return out;
}

/** The type of a subtest's `t`, for assertion helpers shared by subtests. */
export type TapTest = Parameters<Parameters<typeof import('tap').test>[0]>[0];

/** Whether a TCP connection to 127.0.0.1:port is accepted (a closed listener refuses it). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      r(true);
    });
    s.on('error', () => r(false));
  });
}
