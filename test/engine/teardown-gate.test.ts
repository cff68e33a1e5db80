/**
 * The teardown gate (src/engine/teardown-gate.ts): runs wait while a thread's teardown
 * holds it, a closer waits for the runs inside, and a hold ends by itself.
 */
import t from 'tap';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { kMaxHoldMs, TeardownGate } from '../../src/engine/teardown-gate';
import { allocateControl } from '../../src/pool/worker-init';
import { REPO_ROOT } from '../helpers/test-bidder';

const GATE_JS = JSON.stringify(resolve(REPO_ROOT, 'dist/src/engine/teardown-gate.js'));

/** A thread that enters the gate (after `delayMs`), holds the run `holdMs`, leaves, and reports when (Date.now()) it got in. */
function runner(control: SharedArrayBuffer, delayMs: number, holdMs: number): Promise<{ inAt: number }> {
  const w = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const { TeardownGate } = require(${GATE_JS});
    const gate = new TeardownGate(workerData.control);
    const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    sleep(workerData.delayMs);
    gate.enter();
    const inAt = Date.now();
    sleep(workerData.holdMs);
    gate.leave();
    parentPort.postMessage({ inAt });
  `, { eval: true, workerData: { control, delayMs, holdMs } });
  return new Promise((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
  });
}

t.test('an open gate counts runs in and out', async (t) => {
  const gate = new TeardownGate(allocateControl());
  gate.enter();
  gate.enter();
  t.equal(gate.runsInFlight, 2);
  gate.leave();
  gate.leave();
  t.equal(gate.runsInFlight, 0);
  t.equal(gate.closed, false);
});

t.test('closing waits for the run inside another thread to leave', async (t) => {
  const control = allocateControl();
  const gate = new TeardownGate(control);
  const inside = runner(control, 0, 30);
  while (gate.runsInFlight === 0) await new Promise((r) => setTimeout(r, 1));
  const at = Date.now();
  gate.closeForTeardown();
  t.equal(gate.runsInFlight, 0, 'no run is inside when close returns');
  t.ok(Date.now() - at >= 10, 'it waited for it');
  await inside;
  gate.open();
});

t.test('a run waits while the gate is held, and goes once it opens', async (t) => {
  const control = allocateControl();
  const gate = new TeardownGate(control);
  gate.closeForTeardown();
  t.equal(gate.closed, true);
  const waiting = runner(control, 0, 0);
  await new Promise((r) => setTimeout(r, 60));
  t.equal(gate.runsInFlight, 0, 'held back');
  const openedAt = Date.now();
  gate.open();
  const { inAt } = await waiting;
  t.ok(inAt >= openedAt - 1, `got in only once opened (${inAt - openedAt} ms after)`);
});

t.test('a hold nobody opens ends by itself after kMaxHoldMs', async (t) => {
  const control = allocateControl();
  const gate = new TeardownGate(control);
  const closedAt = Date.now();
  gate.closeForTeardown();
  const { inAt } = await runner(control, 0, 0);
  t.ok(inAt - closedAt >= kMaxHoldMs - 2 && inAt - closedAt < kMaxHoldMs + 300, `got in about kMaxHoldMs after the close (${inAt - closedAt} ms)`);
  t.equal(gate.closed, false, 'and the gate reads open');
});
