/**
 * Runs the Node load generator (open-loop.ts) in a process of its own, so its event loop
 * and heap share nothing with the suite that drives it, and returns its result.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { LoadResult } from './open-loop';
import type { RequestSetFile } from './request-set';

export interface ChildLoad {
  port: number;
  set: RequestSetFile;
  rate: number;
  durationS: number;
  connections: number;
  closed?: boolean;
  /** Count answers later than this after their due time (LoadResult.late). */
  lateMs?: number;
  /** Requests due with no free connection are not sent (LoadResult.unsent), not queued. */
  dropWhenBusy?: boolean;
}

export function runLoadInChild(l: ChildLoad): Promise<LoadResult> {
  const args = [
    // The compiled generator, also when this module runs from source (tap runs TypeScript).
    __filename.endsWith('.ts') ? resolve(__dirname, '../../dist/bench/load/open-loop.js') : resolve(__dirname, 'open-loop.js'),
    '--port', String(l.port),
    '--rate', String(l.rate),
    '--duration', String(l.durationS),
    '--connections', String(l.connections),
    '--set', l.set.bin, l.set.idx,
    ...(l.closed ? ['--closed'] : []),
    ...(l.lateMs !== undefined ? ['--late-ms', String(l.lateMs)] : []),
    ...(l.dropWhenBusy ? ['--drop-when-busy'] : []),
  ];
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0) return rej(new Error(`load generator exited with ${code}: ${err}`));
      try {
        res(JSON.parse(out) as LoadResult);
      } catch {
        rej(new Error(`load generator printed no result: ${out}${err}`));
      }
    });
  });
}
