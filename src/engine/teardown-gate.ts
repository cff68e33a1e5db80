/**
 * Keeps onnxruntime runs clear of a thread's teardown.
 *
 * onnxruntime-node 1.30 aborts the whole process (std::terminate on a Napi::Error, "what():"
 * empty) when a worker thread that loaded it is torn down while another thread is inside
 * a session run. Reproduced outside the bidder: worker threads holding sessions,
 * terminated or calling process.exit one after another, abort within 40 exits when a
 * second worker runs sessions all along, and never in 40 when that worker is idle. In the
 * bidder it took the process down about once in ten when the dispatcher terminated a
 * stuck worker or a worker died (npm run chaos).
 *
 * So a thread about to go closes this gate first: runs in every other thread wait at it,
 * and the closer waits (bounded) for the runs already inside to finish. The pool opens it
 * when a worker has exited; it also opens by itself after kMaxHoldMs, so a teardown that
 * never reports cannot stop scoring for good. Worker losses are rare; the cost on the hot
 * path is two atomic adds and a load per run.
 *
 * One gate per process, in the pool's control block; each thread binds it once
 * (bindTeardownGate) before it builds a session.
 */
import { kControlRunsInFlight, kControlTeardownUntil } from '../pool/worker-init';

/** Longest a closed gate holds runs back, in ms, if no exit reopens it sooner (a worker's teardown took 10-20 ms here). */
export const kMaxHoldMs = 100;
/** Longest a closer waits for runs already inside to leave. */
const kDrainWaitMs = 50;

const now32 = (): number => Date.now() | 0;

export class TeardownGate {
  private readonly words: Int32Array;

  constructor(control: SharedArrayBuffer) {
    this.words = new Int32Array(control);
  }

  /** Before a session run: waits while a teardown holds the gate, then counts itself in. */
  enter(): void {
    const w = this.words;
    for (;;) {
      if (this.held()) continue;
      Atomics.add(w, kControlRunsInFlight, 1);
      // Closed between the check and the count: step back out and wait with the rest.
      if (Atomics.load(w, kControlTeardownUntil) === 0) return;
      this.leave();
    }
  }

  /** Waits (once) while the gate is held; false when it is open (an expired hold is cleared). */
  private held(): boolean {
    const w = this.words;
    const until = Atomics.load(w, kControlTeardownUntil);
    if (until === 0) return false;
    // Wrap-safe: the word holds Date.now()'s low 32 bits.
    const left = (until - now32()) | 0;
    if (left <= 0) {
      Atomics.compareExchange(w, kControlTeardownUntil, until, 0);
      return false;
    }
    Atomics.wait(w, kControlTeardownUntil, until, left);
    return true;
  }

  leave(): void {
    if (Atomics.sub(this.words, kControlRunsInFlight, 1) === 1) Atomics.notify(this.words, kControlRunsInFlight);
  }

  /** Closes the gate and waits (at most kDrainWaitMs) for the runs inside to leave. */
  closeForTeardown(): void {
    const w = this.words;
    Atomics.store(w, kControlTeardownUntil, (now32() + kMaxHoldMs) | 0 || 1);
    const deadline = Date.now() + kDrainWaitMs;
    for (let inside = Atomics.load(w, kControlRunsInFlight); inside > 0; inside = Atomics.load(w, kControlRunsInFlight)) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(w, kControlRunsInFlight, inside, left);
    }
  }

  /** A worker has exited: runs may go on. */
  open(): void {
    Atomics.store(this.words, kControlTeardownUntil, 0);
    Atomics.notify(this.words, kControlTeardownUntil);
  }

  get runsInFlight(): number {
    return Atomics.load(this.words, kControlRunsInFlight);
  }

  get closed(): boolean {
    const until = Atomics.load(this.words, kControlTeardownUntil);
    return until !== 0 && ((until - now32()) | 0) > 0;
  }
}

let bound: TeardownGate | null = null;

/** This thread's gate (the process's one); runs go through it from now on. */
export function bindTeardownGate(control: SharedArrayBuffer): TeardownGate {
  bound = new TeardownGate(control);
  return bound;
}

/** The gate this thread bound, or null (tools that run models alone). */
export function teardownGate(): TeardownGate | null {
  return bound;
}
