import t from 'tap';
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { monoNowMs } from '../../src/util/clock';

t.test('monoNowMs never goes backwards and tracks elapsed time', async (t) => {
  let prev = monoNowMs();
  let backwards = 0;
  for (let i = 0; i < 100_000; i++) {
    const now = monoNowMs();
    if (now < prev) backwards++;
    prev = now;
  }
  t.equal(backwards, 0);
  const a = monoNowMs();
  await new Promise((r) => setTimeout(r, 30));
  const elapsed = monoNowMs() - a;
  t.ok(elapsed >= 29 && elapsed < 1000, `elapsed ${elapsed}`);
});

t.test('close to process.hrtime in milliseconds (the shared origin)', async (t) => {
  const hr = Number(process.hrtime.bigint()) / 1e6;
  const mono = monoNowMs();
  t.ok(Math.abs(mono - hr) < 5, `diff ${mono - hr} ms`);
});

t.test("a worker's reading taken after the main thread's is not smaller", async (t) => {
  // The worker runs the real module's code (transpiled here) so it measures its own offset.
  const source = readFileSync(resolve(__dirname, '../../src/util/clock.ts'), 'utf8');
  const clockJs = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const code = `
    const { parentPort } = require('node:worker_threads');
    const clockModule = { exports: {} };
    new Function('exports', 'require', 'module', ${JSON.stringify(clockJs)})(clockModule.exports, require, clockModule);
    const { monoNowMs } = clockModule.exports;
    parentPort.on('message', (mainReading) => {
      const workerReading = monoNowMs();
      parentPort.postMessage({ mainReading, workerReading, after: monoNowMs() });
    });
    parentPort.postMessage('ready');
  `;
  const worker = new Worker(code, { eval: true });
  const messages: unknown[] = [];
  const next = () =>
    new Promise<unknown>((res, rej) => {
      worker.once('message', res);
      worker.once('error', rej);
    });
  t.equal(await next(), 'ready');
  let violations = 0;
  let maxSkew = 0;
  for (let i = 0; i < 200; i++) {
    const p = next();
    worker.postMessage(monoNowMs());
    const m = (await p) as { mainReading: number; workerReading: number };
    messages.push(m);
    if (m.workerReading < m.mainReading) violations++;
    // and the reverse: a main reading after the worker's is not smaller
    const back = monoNowMs();
    if (back < m.workerReading) violations++;
    maxSkew = Math.max(maxSkew, m.workerReading - m.mainReading);
  }
  await worker.terminate();
  t.equal(violations, 0, 'ordering holds in both directions');
  t.ok(maxSkew < 1000, `messages take well under a second (${maxSkew} ms)`);
  t.equal(messages.length, 200);
});
