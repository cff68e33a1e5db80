/**
 * A real redis-server for the fleet tests and the chaos benchmark, on a free port, with no persistence: started per
 * test, stopped (and restarted on the same port) at the test's command, killed at exit.
 * null, with the reason, when redis-server is not installed (the tests then skip, saying so).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './proc';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGTERM, then SIGKILL); its data is gone (no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (c) => {
      text += c.toString();
      if (text.includes('\r\n')) {
        s.destroy();
        resolve(text.startsWith('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
  });
}

export async function startRedis(): Promise<RedisServer | null> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const port = await freePort();
  let child: ChildProcess | null = null;
  const kill = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', kill);
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer PING within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (c === null || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
    child = null;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, restart: start };
}
