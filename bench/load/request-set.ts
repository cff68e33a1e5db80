/**
 * A set of request bodies on disk, in the one format every load generator here reads:
 * `<name>.bin` holds the bodies back to back (already gzipped when the set is gzip) and
 * `<name>.idx` their lengths, one per line. wrk's Lua script and the Node generators load
 * the same files, so every server in a run gets the same bytes in the same order.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface RequestSetFile {
  bin: string;
  idx: string;
  gzip: boolean;
  count: number;
}

export function writeRequestSet(dir: string, name: string, bodies: Buffer[], gzip: boolean): RequestSetFile {
  if (bodies.length === 0) throw new Error('a request set needs at least one body');
  mkdirSync(dir, { recursive: true });
  const payloads = gzip ? bodies.map((b) => gzipSync(b)) : bodies;
  const file: RequestSetFile = { bin: join(dir, `${name}.bin`), idx: join(dir, `${name}.idx`), gzip, count: bodies.length };
  writeFileSync(file.bin, Buffer.concat(payloads));
  writeFileSync(file.idx, `${gzip ? 'gzip' : 'identity'}\n${payloads.map((p) => p.length).join('\n')}\n`);
  return file;
}

/** Reads a set back: the payloads exactly as they go on the wire, and whether they are gzip. */
export function readRequestSet(bin: string, idx: string): { payloads: Buffer[]; gzip: boolean } {
  const lines = readFileSync(idx, 'utf8').trim().split('\n');
  const gzip = lines[0] === 'gzip';
  const data = readFileSync(bin);
  const payloads: Buffer[] = [];
  let at = 0;
  for (const line of lines.slice(1)) {
    const n = Number(line);
    payloads.push(data.subarray(at, at + n));
    at += n;
  }
  if (at !== data.length) throw new Error(`${idx} does not describe ${bin} (${at} of ${data.length} bytes)`);
  return { payloads, gzip };
}

/** The HTTP/1.1 request for one payload. */
export function httpRequestBytes(port: number, payload: Buffer, gzip: boolean): Buffer {
  const head =
    `POST /openrtb2/bid HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    (gzip ? 'Content-Encoding: gzip\r\n' : '') +
    `Content-Length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}
