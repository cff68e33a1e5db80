/**
 * The exchange's HTTP side: keep-alive connections to 127.0.0.1 only. A call never
 * throws: a connection error or a timeout is status 0, counted like any other answer.
 */
import { Agent, request } from 'node:http';

/** Far above any answer the bidder should take; a hang costs the run this much, not forever. */
export const kCallTimeoutMs = 5_000;

export interface Answer {
  status: number;
  body: string;
}

/** Hosts a notice URL may point at: the simulator never calls out of the machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export class ExchangeClient {
  private readonly agent: Agent;

  constructor(maxSockets: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  post(port: number, path: string, body: string): Promise<Answer> {
    return this.call('POST', '127.0.0.1', port, path, body);
  }

  get(host: string, port: number, path: string): Promise<Answer> {
    return this.call('GET', host, port, path, undefined);
  }

  close(): void {
    this.agent.destroy();
  }

  private call(method: string, host: string, port: number, path: string, body: string | undefined): Promise<Answer> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (a: Answer): void => {
        if (!done) {
          done = true;
          resolve(a);
        }
      };
      const headers: Record<string, string | number> = {};
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const req = request({ host, port, method, path, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => finish({ status: 0, body: '' }));
      });
      req.on('error', () => finish({ status: 0, body: '' }));
      req.setTimeout(kCallTimeoutMs, () => req.destroy(new Error('timeout')));
      req.end(body);
    });
  }
}
