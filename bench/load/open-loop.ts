/**
 * Open-loop load at a fixed request rate, with latency measured from each request's
 * INTENDED send time (so a stalled server cannot hide its stall by slowing the sender:
 * coordinated omission is corrected), recorded in an HDR histogram at microsecond
 * resolution. Raw HTTP/1.1 over keep-alive sockets, no pipelining: a request waits for a
 * free connection, and that wait counts against the server.
 *
 *   node dist/bench/load/open-loop.js --port 8080 --rate 10000 --duration 10 [--connections 64]
 *        [--body FILE]... [--gzip]   (prints one JSON line)
 *
 * Bounded in time and count, and only ever targets 127.0.0.1.
 */
import * as hdr from 'hdr-histogram-js';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

export interface OpenLoopOptions {
  port: number;
  rate: number;
  durationS: number;
  connections: number;
  bodies: Buffer[];
  gzip: boolean;
  /** Give up on responses this long after the last send. */
  drainTimeoutMs?: number;
}

export interface OpenLoopResult {
  offeredRate: number;
  sent: number;
  completed: number;
  achievedRate: number;
  status: Record<string, number>;
  errors: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; p9999: number; max: number; mean: number };
  histogram: hdr.Histogram;
}

const kSleepCell = new Int32Array(new SharedArrayBuffer(4));
const kMaxSleepMs = 0.1;

interface Conn {
  socket: Socket;
  busy: boolean;
  intendedAt: number;
  buf: Buffer;
}

function requestBytes(port: number, body: Buffer, gzip: boolean): Buffer {
  const payload = gzip ? gzipSync(body) : body;
  const head =
    `POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    (gzip ? 'Content-Encoding: gzip\r\n' : '') +
    `Content-Length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), payload]);
}

/** Returns the length of one complete response at the start of buf, or 0 if incomplete. */
function responseLength(buf: Buffer): { length: number; status: number } {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return { length: 0, status: 0 };
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length: *(\d+)/i.exec(head);
  const bodyLen = m ? Number(m[1]) : 0;
  const total = end + 4 + bodyLen;
  return buf.length >= total ? { length: total, status } : { length: 0, status: 0 };
}

export function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const requests = o.bodies.map((b) => requestBytes(o.port, b, o.gzip));
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const status: Record<string, number> = {};
  const total = Math.floor(o.rate * o.durationS);
  const intervalMs = 1000 / o.rate;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  const waiting: number[] = []; // intended send times of requests with no free connection
  const free: Conn[] = [];
  const conns: Conn[] = [];

  return new Promise((resolve) => {
    let start = 0;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      for (const c of conns) c.socket.destroy();
      const elapsedS = (performance.now() - start) / 1000;
      resolve({
        offeredRate: o.rate,
        sent,
        completed,
        achievedRate: Math.round(completed / Math.max(elapsedS, 1e-9)),
        status,
        errors,
        latencyUs: {
          p50: histogram.getValueAtPercentile(50),
          p90: histogram.getValueAtPercentile(90),
          p99: histogram.getValueAtPercentile(99),
          p999: histogram.getValueAtPercentile(99.9),
          p9999: histogram.getValueAtPercentile(99.99),
          max: histogram.maxValue,
          mean: Math.round(histogram.mean),
        },
        histogram,
      });
    };

    const send = (c: Conn, intendedAt: number): void => {
      c.busy = true;
      c.intendedAt = intendedAt;
      c.socket.write(requests[sent % requests.length]);
      sent++;
    };

    const onResponse = (c: Conn, code: number): void => {
      const latencyUs = Math.max(1, Math.round((performance.now() - c.intendedAt) * 1000));
      histogram.recordValue(latencyUs);
      status[code] = (status[code] ?? 0) + 1;
      completed++;
      c.busy = false;
      const next = waiting.shift();
      if (next !== undefined) send(c, next);
      else free.push(c);
      if (completed + errors >= total) finish();
    };

    let opened = 0;
    for (let i = 0; i < o.connections; i++) {
      const socket = connect({ host: '127.0.0.1', port: o.port, noDelay: true });
      const c: Conn = { socket, busy: false, intendedAt: 0, buf: Buffer.alloc(0) };
      conns.push(c);
      socket.on('connect', () => {
        free.push(c);
        if (++opened === o.connections) begin();
      });
      socket.on('data', (d: Buffer) => {
        c.buf = c.buf.length === 0 ? d : Buffer.concat([c.buf, d]);
        for (;;) {
          const { length, status: code } = responseLength(c.buf);
          if (length === 0) break;
          c.buf = c.buf.subarray(length);
          onResponse(c, code);
        }
      });
      socket.on('error', () => {
        if (c.busy) errors++;
        c.busy = false;
      });
    }

    const begin = (): void => {
      start = performance.now();
      const tick = (): void => {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
        while (sent + waiting.length < due) {
          const intendedAt = start + (sent + waiting.length) * intervalMs;
          const c = free.pop();
          if (c) send(c, intendedAt);
          else waiting.push(intendedAt);
        }
        if (sent + waiting.length < total) {
          // Sleep until the next send is due (at most kMaxSleepMs, so responses are read
          // promptly) instead of spinning: a spinning generator steals a core from the
          // server it measures.
          const nextAt = start + (sent + waiting.length) * intervalMs;
          const sleepMs = Math.min(kMaxSleepMs, nextAt - performance.now());
          if (sleepMs > 0.02) Atomics.wait(kSleepCell, 0, 0, sleepMs);
          setImmediate(tick);
        } else {
          setTimeout(finish, o.drainTimeoutMs ?? 5_000).unref();
        }
      };
      tick();
    };
  });
}

function parseCli(argv: string[]): OpenLoopOptions {
  const o: OpenLoopOptions = { port: 8080, rate: 1000, durationS: 10, connections: 64, bodies: [], gzip: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--port') o.port = Number(v), i++;
    else if (a === '--rate') o.rate = Number(v), i++;
    else if (a === '--duration') o.durationS = Number(v), i++;
    else if (a === '--connections') o.connections = Number(v), i++;
    else if (a === '--body') o.bodies.push(readFileSync(v)), i++;
    else if (a === '--gzip') o.gzip = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.bodies.length === 0) throw new Error('--body FILE is required');
  if (!(o.rate > 0 && o.durationS > 0 && o.durationS <= 3600)) throw new Error('rate and duration (<= 3600 s) must be positive');
  return o;
}

if (require.main === module) {
  runOpenLoop(parseCli(process.argv.slice(2))).then((r) => {
    const { histogram: _h, ...rest } = r;
    process.stdout.write(`${JSON.stringify(rest)}\n`);
  });
}
