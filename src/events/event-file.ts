/**
 * Reads event-log files (event-log-writer.ts): the framed records of one file, in order. A
 * truncated last record (a crash mid-write) is reported, not fatal; a frame longer than
 * any record could be means the file is not an event log.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvent, kMaxRecordBytes, type EventFields } from '../codec/event-records';
import { EventLogError } from './event-errors';

export class EventFileError extends Error {
  constructor(readonly code: 'EVENTS_DIR_UNREADABLE' | 'EVENTS_FILE_CORRUPT', message: string) {
    super(message);
  }
}

export interface FileRead {
  records: EventFields[];
  /** Bytes at the end that do not make a whole record (a write cut short). */
  truncatedBytes: number;
  /** Records of a kind this reader does not know (a newer bidder's), skipped. */
  unknownKinds: number;
}

export function readEventFile(path: string): FileRead {
  const bytes = readFileSync(path);
  const records: EventFields[] = [];
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
