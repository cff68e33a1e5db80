/**
 * The attack generators of the attack benchmark (bench/attacks.ts). Each runs against
 * 127.0.0.1 only, for at most `durationMs`, then stops by itself (or earlier on stop())
 * and reports what the attacker got: answers by status, connections it opened, and how
 * many of them the server closed. Raw sockets throughout, so nothing (no client library's
 * pooling, retries or timeouts) softens or hides an attack.
 */
import { connect, type Socket } from 'node:net';
import { responseLength } from '../load/open-loop';

export interface AttackReport {
  attack: string;
  durationMs: number;
  /** Connections opened, reconnections included. */
  connections: number;
  /** Most connections open at once. */
  peakOpen: number;
  /** Requests (or request heads, for slow senders) the attacker started. */
  requests: number;
  /** Complete answers by HTTP status code. */
  status: Record<string, number>;
  /** Connections the server closed (or reset) while the attack held them. */
  closedByServer: number;
  /** Connections that failed to open or failed with an error other than a close. */
  errors: number;
}

export interface RunningAttack {
  /** Resolves when the attack has stopped (after durationMs, or after stop()). */
  done: Promise<AttackReport>;
  stop(): void;
}

const kHost = '127.0.0.1';

/** Shared bookkeeping: every socket opened, the count open now, and the stop timer. */
class AttackState {
  readonly report: AttackReport;
  readonly sockets = new Set<Socket>();
  /** Sockets the attacker closed itself: their close is not the server's doing. */
  private readonly dropped = new WeakSet<Socket>();
  stopped = false;
  private readonly startedAt = Date.now();
  private finishDone!: (r: AttackReport) => void;
  readonly done = new Promise<AttackReport>((r) => (this.finishDone = r));
  private readonly timer: NodeJS.Timeout;
  private readonly onStop: (() => void)[] = [];

  constructor(attack: string, durationMs: number) {
    this.report = { attack, durationMs: 0, connections: 0, peakOpen: 0, requests: 0, status: {}, closedByServer: 0, errors: 0 };
    this.timer = setTimeout(() => this.stop(), durationMs);
  }

  /** Opens one connection to the target, tracked so stop() closes it. */
  open(port: number): Socket {
    const s = connect({ host: kHost, port, noDelay: true });
    this.report.connections++;
    this.sockets.add(s);
    if (this.sockets.size > this.report.peakOpen) this.report.peakOpen = this.sockets.size;
    s.on('close', () => {
      this.sockets.delete(s);
      if (!this.stopped && !this.dropped.has(s)) this.report.closedByServer++;
    });
    s.on('error', () => {
      if (!this.stopped) this.report.errors++;
    });
    return s;
  }

  /** Closes a connection from the attacker's side. */
  drop(s: Socket): void {
    this.dropped.add(s);
    this.sockets.delete(s);
    s.destroy();
  }

  count(status: number): void {
    this.report.status[status] = (this.report.status[status] ?? 0) + 1;
  }

  whenStopped(f: () => void): void {
    this.onStop.push(f);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    for (const f of this.onStop) f();
    for (const s of this.sockets) s.destroy();
    this.report.durationMs = Date.now() - this.startedAt;
    this.finishDone(this.report);
  }

  handle(): RunningAttack {
    return { done: this.done, stop: () => this.stop() };
  }
}

/** The status of the first response in `buf`, 0 until a status line is complete. */
function statusOf(buf: Buffer): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, Math.min(buf.length, 16)));
  return m ? Number(m[1]) : 0;
}

export interface SlowSendersOptions {
  port: number;
  connections: number;
  /** Content-Length each request declares. */
  declaredBytes: number;
  /** Bytes of body written per tick on each connection. */
  trickleBytes: number;
  intervalMs: number;
  durationMs: number;
}

/**
 * Slow senders (slowloris on the body): each connection declares a large body and then
 * trickles a few bytes of it every interval, never finishing. A connection the server
 * answers or closes is reopened on the next tick, so the pressure lasts the whole attack.
 */
export function slowSenders(o: SlowSendersOptions): RunningAttack {
  const st = new AttackState('slow-senders', o.durationMs);
  const head = Buffer.from(
    `POST /openrtb2/bid HTTP/1.1\r\nHost: ${kHost}\r\nContent-Type: application/json\r\nContent-Length: ${o.declaredBytes}\r\n\r\n`,
  );
  const trickle = Buffer.alloc(o.trickleBytes, 0x20);
  interface Slot {
    socket: Socket | null;
    written: number;
    answered: boolean;
  }
  const slots: Slot[] = Array.from({ length: o.connections }, () => ({ socket: null, written: 0, answered: false }));
  const start = (slot: Slot): void => {
    const s = st.open(o.port);
    slot.socket = s;
    slot.written = 0;
    slot.answered = false;
    st.report.requests++;
    s.write(head);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      if (slot.answered) return;
      buf = Buffer.concat([buf, d]);
      const status = statusOf(buf);
      if (status > 0) {
        slot.answered = true;
        st.count(status);
      }
    });
    s.on('close', () => {
      if (slot.socket === s) slot.socket = null;
    });
  };
  const tick = (): void => {
    for (const slot of slots) {
      if (slot.socket === null || slot.answered) {
        // Answered (a 408, say) but left open: the attacker moves on to a new connection.
        if (slot.socket !== null) st.drop(slot.socket);
        start(slot);
      } else if (slot.written + trickle.length < o.declaredBytes) {
        slot.socket.write(trickle);
        slot.written += trickle.length;
      }
    }
  };
  for (const slot of slots) start(slot);
  const timer = setInterval(tick, o.intervalMs);
  st.whenStopped(() => clearInterval(timer));
  return st.handle();
}

export interface IdleOptions {
  port: number;
  connections: number;
  /** How often closed connections are reopened. */
  reopenMs: number;
  durationMs: number;
}

/** Connections opened and then left silent; a connection the server closes is reopened. */
export function idleConnections(o: IdleOptions): RunningAttack {
  const st = new AttackState('idle-connections', o.durationMs);
  let open = 0;
  const openOne = (): void => {
    const s = st.open(o.port);
    open++;
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      // A server may answer an idle connection (a 408) before closing it.
      buf = Buffer.concat([buf, d]);
      const status = statusOf(buf);
      if (status > 0) {
        st.count(status);
        buf = Buffer.alloc(0);
      }
    });
    s.on('close', () => open--);
  };
  // Open in steps rather than all at once, so the accept backlog, not the attack's own
  // SYN burst, decides how fast they land.
  const kStep = 250;
  const fill = (): void => {
    for (let i = 0; open < o.connections && i < kStep; i++) openOne();
  };
  fill();
  const timer = setInterval(fill, o.reopenMs);
  st.whenStopped(() => clearInterval(timer));
  return st.handle();
}

export interface FloodOptions {
  attack: string;
  port: number;
  /** One whole HTTP/1.1 request, sent again each time its answer is complete. */
  request: Buffer;
  concurrency: number;
  durationMs: number;
}

/**
 * Closed-loop keep-alive requests on `concurrency` connections: each sends `request`,
 * waits for the whole answer, and sends it again. A connection the server closes is
 * reopened at once (an attacker does not back off).
 */
export function requestFlood(o: FloodOptions): RunningAttack {
  const st = new AttackState(o.attack, o.durationMs);
  const lane = (): void => {
    if (st.stopped) return;
    const s = st.open(o.port);
    let buf = Buffer.alloc(0);
    let connected = false;
    const send = (): void => {
      st.report.requests++;
      s.write(o.request);
    };
    s.on('connect', () => {
      connected = true;
      send();
    });
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      for (;;) {
        const { length, status } = responseLength(buf);
        if (length === 0) return;
        buf = buf.subarray(length);
        st.count(status);
        if (status < 0) {
          st.drop(s);
          return;
        }
        if (!st.stopped) send();
      }
    });
    s.on('close', () => {
      // A refused connection is retried after a pause, not in a tight loop.
      if (!st.stopped) connected ? setImmediate(lane) : setTimeout(lane, 100);
    });
  };
  for (let i = 0; i < o.concurrency; i++) lane();
  return st.handle();
}
