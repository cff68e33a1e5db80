/**
 * Reads event-log files (event-log-writer.ts): the framed records of one file, in order. A
 * truncated last record (a crash mid-write) is reported, not fatal; a frame longer than
 * any record could be means the file is not an event log.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvent, kMaxRecordBytes, type DecodedEvent } from '../codec/event-records';
import { EventLogError } from './event-errors';

export class EventFileError extends Error {
  constructor(readonly code: 'EVENTS_DIR_UNREADABLE' | 'EVENTS_FILE_CORRUPT', message: string) {
    super(message);
  }
}

export interface FileRead {
  /** Every field set: those a record's writer did not know read as their defaults. */
  records: DecodedEvent[];
  /** Bytes at the end that do not make a whole record (a write cut short). */
  truncatedBytes: number;
  /** Records of a kind this reader does not know (a newer bidder's), skipped. */
  unknownKinds: number;
}

export function readEventFile(path: string): FileRead {
  const bytes = readFileSync(path);
  const records: DecodedEvent[] = [];
  let unknownKinds = 0;
  let at = 0;
  while (at + 4 <= bytes.length) {
    const n = bytes.readUInt32LE(at);
    if (n === 0 || n > kMaxRecordBytes) throw new EventFileError('EVENTS_FILE_CORRUPT', `${path}: a frame of ${n} bytes at offset ${at}`);
    if (at + 4 + n > bytes.length) break;
    try {
      records.push(decodeEvent(bytes.subarray(at + 4, at + 4 + n)));
    } catch (err) {
      if (err instanceof EventLogError && err.code === 'EVENTS_UNKNOWN_KIND') unknownKinds++;
      else throw new EventFileError('EVENTS_FILE_CORRUPT', `${path}: the record at offset ${at} does not decode (${(err as Error).message})`);
    }
    at += 4 + n;
  }
  return { records, truncatedBytes: bytes.length - at, unknownKinds };
}

/** The event files of `dir`, oldest first (their names sort by time). */
export function eventFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new EventFileError('EVENTS_DIR_UNREADABLE', `${dir}: ${(err as Error).message}`);
  }
  return names.filter((n) => n.startsWith('events-') && n.endsWith('.fbl')).sort().map((n) => join(dir, n));
}

/**
 * Calls `onRecord` with every record of every event file in `dir`, in file order, one file
 * in memory at a time. A truncated last record and records of unknown kinds are reported
 * through `warn` (with their stable codes) and skipped; a damaged file or an unreadable
 * folder throws EventFileError. The number of files read.
 */
export function forEachEventRecord(dir: string, onRecord: (r: DecodedEvent) => void, warn: (message: string) => void): number {
  const files = eventFiles(dir);
  for (const f of files) {
    const r = readEventFile(f);
    if (r.truncatedBytes > 0) warn(`EVENTS_TRUNCATED_RECORD: ${f}: the last ${r.truncatedBytes} bytes are a record cut short; skipped`);
    if (r.unknownKinds > 0) warn(`EVENTS_UNKNOWN_KIND: ${f}: ${r.unknownKinds} records of a kind this reader does not know (a newer bidder's); skipped`);
    for (const rec of r.records) onRecord(rec);
  }
  return files.length;
}

/** Every record of every event file in `dir` (forEachEventRecord into an array). */
export function readEventFolder(dir: string, warn: (message: string) => void): DecodedEvent[] {
  const out: DecodedEvent[] = [];
  forEachEventRecord(dir, (r) => out.push(r), warn);
  return out;
}
