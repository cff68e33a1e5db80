/**
 * `npm start`: resolve the configuration, print it once, start the bidder, and drain on
 * SIGTERM/SIGINT (stop accepting, answer what is in flight, close the pool, exit 0).
 */
import { startBidder, StartupError } from './bidder';
import { loadConfig } from './config/config';

async function main(): Promise<void> {
  const resolved = loadConfig();
  if (!resolved.ok) {
    process.stderr.write(`bidder: invalid configuration (${resolved.errors.length} errors):\n  - ${resolved.errors.join('\n  - ')}\n`);
    process.exit(2);
  }
  const config = resolved.config;
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
