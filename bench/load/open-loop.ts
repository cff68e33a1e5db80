/**
 * The project's own load generator. Raw HTTP/1.1 over keep-alive sockets, no pipelining.
 *
 * - open loop (default): a fixed request rate. Latency is measured from each request's
 *   INTENDED send time, so a stalled server cannot hide its stall by slowing the sender
 *   (coordinated omission is corrected): a request that waits for a free connection, or
 *   for a late generator, counts that wait against the server.
 * - closed loop (--closed): every connection sends its next request as soon as its answer
 *   arrives, for peak throughput; the fallback when wrk is not installed.
 *
 * Latency goes into an HDR histogram at microsecond resolution.
 *
 *   node dist/bench/load/open-loop.js --port 8080 --rate 10000 --duration 10 [--connections 64]
 *        (--body FILE... [--gzip] | --set BIN IDX) [--closed] [--late-ms N] [--drop-when-busy]      prints one JSON line
 *
 * Bounded in time and count, and only ever targets 127.0.0.1.
 */
import * as hdr from 'hdr-histogram-js';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import type { LatencySummaryUs, PercentileCurve } from '../lib/results';
import { httpRequestBytes, readRequestSet } from './request-set';

export interface LoadOptions {
  port: number;
  /** Requests per second (open loop); ignored when closed. */
  rate: number;
  durationS: number;
  connections: number;
  /** Payloads exactly as sent (gzipped already when gzip is set). */
  payloads: Buffer[];
  gzip: boolean;
  closed?: boolean;
  /** Give up on responses this long after the last send. */
  drainTimeoutMs?: number;
  /** Count answers that came later than this after their due time (an exchange's tmax); 0 or absent: not counted. */
  lateMs?: number;
  /**
   * A request due when no connection is free is not sent (counted in `unsent`) rather than
   * queued: as a load balancer sends it to another instance when this one closes its
   * connections. Only for a server that is going away; a stall would hide in it otherwise.
   */
  dropWhenBusy?: boolean;
}

export interface LoadResult {
  offeredRate: number;
  durationS: number;
  sent: number;
  completed: number;
  achievedRate: number;
  status: Record<string, number>;
  errors: number;
  /** Answers later than lateMs after their due time (0 when lateMs was not given). */
  late?: number;
  /** Requests due with no free connection, not sent (dropWhenBusy). */
  unsent?: number;
  latencyUs: LatencySummaryUs;
  curve: PercentileCurve;
}

const kSleepCell = new Int32Array(new SharedArrayBuffer(4));
/** The longest the generator sleeps between sends, so responses are read promptly. */
const kMaxSleepMs = 0.1;
/** Hard bound on a run, whatever the arguments say. */
const kMaxDurationS = 3600;

interface Conn {
  socket: Socket;
  busy: boolean;
  intendedAt: number;
  buf: Buffer;
  /** Closed (by the server, e.g. its idle timeout, or by an error): never written again. */
  dead: boolean;
}

/**
 * Returns the length of one complete response at the start of buf, or 0 if incomplete.
 * Bodies are delimited by Content-Length or chunked transfer coding (Node's http server
 * uses chunks when a handler sets no length); a status line that does not parse is -1.
 */
export function responseLength(buf: Buffer): { length: number; status: number } {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return { length: 0, status: 0 };
  const head = buf.toString('latin1', 0, end);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
  if (status === undefined) return { length: buf.length, status: -1 };
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    let at = end + 4;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return { length: 0, status: 0 };
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (!Number.isFinite(size)) return { length: buf.length, status: -1 };
      at = lineEnd + 2 + size + 2; // chunk data and its CRLF; the last chunk (0) has no data
      if (at > buf.length) return { length: 0, status: 0 };
      if (size === 0) return { length: at, status: Number(status) };
    }
  }
  const m = /\r\ncontent-length: *(\d+)/i.exec(head);
  const total = end + 4 + (m ? Number(m[1]) : 0);
  return buf.length >= total ? { length: total, status: Number(status) } : { length: 0, status: 0 };
}

/** Whether the response in buf[0, length) carries `Connection: close`. */
export function asksToClose(buf: Buffer, length: number): boolean {
  const end = buf.indexOf('\r\n\r\n');
  const head = buf.toString('latin1', 0, end < 0 || end > length ? length : end);
  return /\r\nconnection: *close/i.test(head);
}

/** Percentiles on the HDR log scale, 0 to 99.999, for plotting; then the max as 100. */
export function percentileCurve(h: hdr.Histogram): PercentileCurve {
  const curve: PercentileCurve = [];
  for (let step = 0; step <= 50; step++) {
    // 10 points per decade of 1/(1-p): 0, 20.6, 36.9, ... 90, ... 99, ... 99.999
    const p = 100 * (1 - Math.pow(10, -step / 10));
    // HDR reports a bucket's upper bound, which can pass the largest value recorded.
    curve.push([Math.round(p * 10000) / 10000, Math.min(h.getValueAtPercentile(p), h.maxValue)]);
  }
  curve.push([100, h.maxValue]);
  return curve;
}

export function summarize(h: hdr.Histogram): LatencySummaryUs {
  const at = (p: number): number => Math.min(h.getValueAtPercentile(p), h.maxValue);
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: h.maxValue,
    mean: Math.round(h.mean),
  };
}

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (!(o.durationS > 0 && o.durationS <= kMaxDurationS)) throw new Error(`duration must be in (0, ${kMaxDurationS}] s`);
  if (!o.closed && !(o.rate > 0)) throw new Error('rate must be positive');
  const requests = o.payloads.map((p) => httpRequestBytes(o.port, p, o.gzip));
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const status: Record<string, number> = {};
  const total = o.closed ? Infinity : Math.floor(o.rate * o.durationS);
  const intervalMs = o.closed ? 0 : 1000 / o.rate;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let late = 0;
  let unsent = 0;
  const lateUs = o.lateMs !== undefined && o.lateMs > 0 ? o.lateMs * 1000 : Infinity;
  let start = 0;
  let stopSending = false;
  const waiting: number[] = []; // intended send times of requests with no free connection
  const free: Conn[] = [];
  const conns: Conn[] = [];

  return new Promise((resolve) => {
    let finished = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(drainTimer);
      for (const c of conns) c.socket.destroy();
      const elapsedS = o.closed ? o.durationS : (performance.now() - start) / 1000;
      resolve({
        offeredRate: o.closed ? 0 : o.rate,
        durationS: o.durationS,
        sent,
        completed,
        achievedRate: Math.round(completed / Math.max(elapsedS, 1e-9)),
        status,
        errors,
        late,
        unsent,
        latencyUs: summarize(histogram),
        curve: percentileCurve(histogram),
      });
    };

    const send = (c: Conn, intendedAt: number): void => {
      c.busy = true;
      c.intendedAt = intendedAt;
      // A write that fails (the server closed the connection under it) is an error, not a
      // request that silently never gets its answer.
      c.socket.write(requests[sent % requests.length], (err) => {
        if (err) lose(c);
      });
      sent++;
    };

    /** The request in flight on `c` (if any) is lost: count it once. */
    const lose = (c: Conn): void => {
      if (c.busy && !finished) errors++;
      c.busy = false;
      if (!o.closed && completed + errors + unsent >= total) finish();
    };

    /**
     * A connection the server closed leaves the free list and is replaced, so no request
     * is written to a dead socket (Node reports no error for a write after 'close') and
     * the offered load keeps its connections. uWebSockets.js closes keep-alive connections
     * idle for about 10 s, which an open loop's least-used connections are.
     */
    const retire = (c: Conn, wasUp: boolean): void => {
      if (c.dead) return;
      c.dead = true;
      lose(c);
      const at = free.indexOf(c);
      if (at >= 0) free.splice(at, 1);
      // Only a connection that worked is replaced: a refused one would retry in a tight loop.
      if (wasUp && !finished && !stopSending) open(false);
    };

    const onResponse = (c: Conn, code: number, closing = false): void => {
      const now = performance.now();
      const latencyUs = Math.max(1, Math.round((now - c.intendedAt) * 1000));
      histogram.recordValue(latencyUs);
      if (latencyUs > lateUs) late++;
      status[code] = (status[code] ?? 0) + 1;
      completed++;
      c.busy = false;
      if (closing) {
        if (!o.closed && completed + errors + unsent >= total) finish();
        return;
      }
      if (o.closed) {
        if (!stopSending) send(c, now);
        return;
      }
      const next = waiting.shift();
      if (next !== undefined) send(c, next);
      else free.push(c);
      if (completed + errors + unsent >= total) finish();
    };

    let opened = 0;
    const open = (initial: boolean): void => {
      const socket = connect({ host: '127.0.0.1', port: o.port, noDelay: true });
      const c: Conn = { socket, busy: false, intendedAt: 0, buf: Buffer.alloc(0), dead: false };
      conns.push(c);
      let up = false;
      socket.on('connect', () => {
        up = true;
        if (initial) {
          free.push(c);
          if (++opened === o.connections) begin();
          return;
        }
        // A replacement takes what waited for a connection, or becomes free.
        if (o.closed) {
          if (!stopSending) send(c, performance.now());
          return;
        }
        const next = waiting.shift();
        if (next !== undefined) send(c, next);
        else free.push(c);
      });
      socket.on('data', (d: Buffer) => {
        c.buf = c.buf.length === 0 ? d : Buffer.concat([c.buf, d]);
        for (;;) {
          const { length, status: code } = responseLength(c.buf);
          if (length === 0) break;
          const closing = asksToClose(c.buf, length);
          c.buf = c.buf.subarray(length);
          if (closing) {
            // The server said it closes this connection (a drain): it takes no more
            // requests, so, as any HTTP/1.1 client does, never write to it again.
            onResponse(c, code, true);
            retire(c, true);
            break;
          }
          onResponse(c, code);
        }
      });
      socket.on('error', () => retire(c, up));
      socket.on('close', () => retire(c, up));
    };
    for (let i = 0; i < o.connections; i++) open(true);

    const beginClosed = (): void => {
      start = performance.now();
      for (const c of free.splice(0)) send(c, performance.now());
      setTimeout(() => {
        // Stop sending, count what is answered in the window, drop the rest.
        stopSending = true;
        finish();
      }, o.durationS * 1000);
    };

    const begin = (): void => {
      if (o.closed) return beginClosed();
      start = performance.now();
      const tick = (): void => {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
        while (sent + unsent + waiting.length < due) {
          const intendedAt = start + (sent + unsent + waiting.length) * intervalMs;
          const c = free.pop();
          if (c) send(c, intendedAt);
          else if (o.dropWhenBusy) unsent++;
          else waiting.push(intendedAt);
        }
        if (sent + unsent + waiting.length < total) {
          // Sleep until the next send is due (at most kMaxSleepMs) instead of spinning: a
          // spinning generator steals a core from the server it measures.
          const nextAt = start + (sent + unsent + waiting.length) * intervalMs;
          const sleepMs = Math.min(kMaxSleepMs, nextAt - performance.now());
          if (sleepMs > 0.02) Atomics.wait(kSleepCell, 0, 0, sleepMs);
          setImmediate(tick);
        } else {
          // Kept referenced: when the server has closed every connection (a drain) nothing
          // else holds the loop open, and the process must still print its result.
          drainTimer = setTimeout(finish, o.drainTimeoutMs ?? 5_000);
        }
      };
      tick();
    };
  });
}

function parseCli(argv: string[]): LoadOptions {
  const o: LoadOptions = { port: 8080, rate: 1000, durationS: 10, connections: 64, payloads: [], gzip: false };
  const bodies: Buffer[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--port') o.port = Number(v), i++;
    else if (a === '--rate') o.rate = Number(v), i++;
    else if (a === '--duration') o.durationS = Number(v), i++;
    else if (a === '--connections') o.connections = Number(v), i++;
    else if (a === '--body') bodies.push(readFileSync(v)), i++;
    else if (a === '--gzip') o.gzip = true;
    else if (a === '--closed') o.closed = true;
    else if (a === '--late-ms') o.lateMs = Number(v), i++;
    else if (a === '--drop-when-busy') o.dropWhenBusy = true;
    else if (a === '--set') {
      const set = readRequestSet(v, argv[i + 2]);
      o.payloads = set.payloads;
      o.gzip = set.gzip;
      i += 2;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (bodies.length > 0) o.payloads = o.gzip ? bodies.map((b) => gzipSync(b)) : bodies;
  if (o.payloads.length === 0) throw new Error('--body FILE or --set BIN IDX is required');
  return o;
}

if (require.main === module) {
  runLoad(parseCli(process.argv.slice(2))).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  });
}
