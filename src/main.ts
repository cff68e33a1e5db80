/**
 * `npm start`: resolve the configuration, print it once, start the bidder, and drain on
 * SIGTERM/SIGINT (stop accepting, answer what is in flight, close the pool, exit 0).
 *
 * `--check`: resolve the configuration and load the native binaries (uWebSockets.js,
 * onnxruntime), then exit 0, or 1 saying what failed. The image runs it at build time, so
 * an image whose Node ABI or libc has no uWS binary is never pushed.
 */
import { parseArgs } from 'node:util';
import { startBidder, StartupError } from './bidder';
import { loadConfig } from './config/config';
import { loadNativeUws } from './server/uws';

function checkNativeBinaries(): void {
  loadNativeUws();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as { InferenceSession?: unknown };
  if (typeof ort.InferenceSession !== 'function') throw new Error('onnxruntime-node loaded without InferenceSession');
}

async function main(): Promise<void> {
  let check = false;
  try {
    check = parseArgs({ options: { check: { type: 'boolean', default: false } } }).values.check === true;
  } catch (err) {
    process.stderr.write(`bidder: ${(err as Error).message}\nusage: node dist/src/main.js [--check]\n`);
    process.exit(2);
  }
  const resolved = loadConfig();
  if (!resolved.ok) {
    process.stderr.write(`bidder: invalid configuration (${resolved.errors.length} errors):\n  - ${resolved.errors.join('\n  - ')}\n`);
    process.exit(2);
  }
  const config = resolved.config;
  // Before anything else: a missing native binary is the one failure a new image or Node
  // line brings, and it should read as that, not as a worker that died while warming.
  checkNativeBinaries();
  if (check) {
    process.stdout.write(`bidder: check passed: configuration valid, uWebSockets.js and onnxruntime load (Node ${process.version}, ABI ${process.versions.modules}, ${process.platform}-${process.arch})\n`);
    return;
  }
  process.stdout.write(`bidder: configuration ${JSON.stringify(config)}\n`);
  const budget = resolved.cpuBudget;
  process.stdout.write(`bidder: ${budget.cpus} CPUs to use (${budget.source}); ${config.server.acceptors} acceptor(s), ${config.pool.threads} pool worker(s)\n`);

  const bidder = await startBidder(config);
  process.stdout.write(`bidder: listening on ${config.server.host}:${bidder.port}, ${bidder.acceptors} acceptor(s), warming ${config.pool.threads} workers\n`);
  process.stdout.write(`bidder: operations (/metrics, /debug/latency) on ${config.server.opsHost}:${bidder.opsPort}\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`bidder: ${signal}: draining\n`);
    bidder.drain().then(
      () => {
        process.stdout.write('bidder: drained, exiting\n');
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`bidder: drain failed: ${err.stack ?? err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const started = Date.now();
  await bidder.ready;
  process.stdout.write(`bidder: ready (${config.model.name}) after ${Date.now() - started} ms\n`);
}

main().catch((err: unknown) => {
  if (err instanceof StartupError) {
    process.stderr.write(`bidder: refusing to start: ${err.message}\n`);
  } else {
    const e = err as Error & { code?: string };
    process.stderr.write(`bidder: refusing to start: ${e.code ? `${e.code}: ` : ''}${e.stack ?? e.message}\n`);
  }
  process.exit(1);
});
