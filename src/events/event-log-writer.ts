/**
 * Appends event records to rotating files: <dir>/events-<UTC time>-<instance>-<seq>.fbl. A
 * file ends when the next record would take it past maxFileBytes or when it is older than
 * maxFileAgeSec (checked on every append and flush, so a quiet file is still closed on
 * time). Each record is framed [u32 LE length][flatbuffer] (codec/event-records.ts). Names
 * sort by time, then sequence, so `ls | sort` is write order.
 *
 * Runs on the money owner's thread; the producers (engine threads) only ever touch their
 * rings (event-ring.ts). Given rings, the writer drains them itself on a timer; otherwise
 * its owner calls append() and flush(). It never blocks that thread: records are copied into
 * reusable chunks and written with one writev per file while the thread goes on; while a
 * write is out and more than maxBufferedBytes wait (the owner flushes after every pump, so
 * bytes pile up only behind a write), new records are dropped and counted
 * (droppedSlowDisk) rather than held without bound. A failed write loses its records, also
 * counted there (and in writeErrors). close() writes everything still waiting, so a clean
 * stop loses nothing.
 */
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { kFrameHeaderBytes, writeFrame } from '../codec/event-records';
import { EventLogError } from './event-errors';
import type { EventRing } from './event-ring';

/** A second consumer of every record (e.g. redis-stream-sink.ts); must not block or throw. */
export interface EventSink {
  /** Records copied for the sink; it may keep them. */
  write(records: Uint8Array[]): void;
  close?(): Promise<void> | void;
}

/** What the writer needs of an open file (fs/promises FileHandle; tests pass a slow fake). */
export interface EventFileHandle {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

export interface EventLogOptions {
  dir: string;
  /** Goes into file names, so that bidders sharing a folder never write the same file. */
  instanceId: string;
  maxFileBytes: number;
  maxFileAgeSec: number;
  /** Bytes waiting for the disk beyond which new records are dropped (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Clock, unix ms (default Date.now). */
  now?: () => number;
  /** Rings to drain every drainIntervalMs; without them the owner calls append() and flush(). */
  rings?: readonly EventRing[];
  drainIntervalMs?: number;
  sinks?: readonly EventSink[];
  /** Opens a new file exclusively (default fs/promises open(path, 'wx')). */
  openFile?: (path: string) => Promise<EventFileHandle>;
}

export interface EventLogCounters {
  /** Records on disk. */
  written: number;
  /** Records the rings refused (sum of their `dropped`); only for rings given to the writer. */
  droppedRing: number;
  /** Records dropped because the disk was behind, or lost to a failed write. */
  droppedSlowDisk: number;
  /** Files opened. */
  files: number;
  /** Files ended by size or age. */
  filesRotated: number;
  /** Bytes on disk (frames included). */
  bytes: number;
  writeErrors: number;
  /** Bytes waiting for a write now. */
  bufferedBytes: number;
}

/** Bytes of one reusable chunk; a larger record gets a chunk of its own. */
const kChunkBytes = 64 * 1024;
const kFreeChunks = 16;

interface Chunk {
  /** The file generation its records belong to. */
  gen: number;
  /** When that file was begun (its name's time). */
  startedMs: number;
  buf: Buffer;
  used: number;
  records: number;
}

function stamp(ms: number): string {
  // 2026-12-02T20:56:40.123Z -> 20261202T205640Z: ISO 8601 basic, fixed width, sortable
  // (files begun in one second sort by their sequence number).
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function validate(o: EventLogOptions): void {
  const bad: string[] = [];
  if (typeof o.dir !== 'string' || o.dir === '') bad.push('dir must be a folder');
  if (!(o.maxFileBytes > 0)) bad.push('maxFileBytes must be > 0');
  if (!(o.maxFileAgeSec > 0)) bad.push('maxFileAgeSec must be > 0');
  if (o.maxBufferedBytes !== undefined && !(o.maxBufferedBytes > 0)) bad.push('maxBufferedBytes must be > 0');
  if (o.drainIntervalMs !== undefined && !(o.drainIntervalMs >= 0)) bad.push('drainIntervalMs must be >= 0');
  if (bad.length > 0) throw new EventLogError('EVENTS_BAD_OPTIONS', bad.join('; '));
}

export class EventLogWriter {
  private pending: Chunk[] = [];
  private pendingBytes = 0;
  private readonly free: Buffer[] = [];
  private writing: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private closed = false;
  /** The generation new records go to, its bytes so far (0: not begun) and its start. */
  private gen = 0;
  private genBytes = 0;
  private genStartedMs = 0;
  private file: EventFileHandle | null = null;
  private fileGen = -1;
  private seq = 0;
  private readonly sinkBatch: Uint8Array[] = [];
  private readonly c = { written: 0, droppedSlowDisk: 0, files: 0, filesRotated: 0, bytes: 0, writeErrors: 0 };
  private readonly now: () => number;
  private readonly maxBuffered: number;
  private readonly maxAgeMs: number;
  private readonly instance: string;
  private readonly rings: readonly EventRing[];
  private readonly sinks: readonly EventSink[];
  private readonly openFile: (path: string) => Promise<EventFileHandle>;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly appendRecord = (r: Uint8Array): void => {
    this.append(r);
  };

  constructor(private readonly o: EventLogOptions) {
    validate(o);
    mkdirSync(o.dir, { recursive: true });
    this.now = o.now ?? Date.now;
    this.maxBuffered = o.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxAgeMs = o.maxFileAgeSec * 1000;
    this.instance = o.instanceId.replace(/[^A-Za-z0-9._-]/g, '_');
    this.rings = o.rings ?? [];
    this.sinks = o.sinks ?? [];
    this.openFile = o.openFile ?? ((path) => open(path, 'wx'));
    const every = o.drainIntervalMs ?? 50;
    if (this.rings.length > 0 && every > 0) {
      this.timer = setInterval(() => this.pump(), every);
      // The owner's own handles keep its thread alive; close() drains what is left.
      this.timer.unref();
    }
  }

  get counters(): EventLogCounters {
    let droppedRing = 0;
    for (const r of this.rings) droppedRing += r.dropped;
    return { ...this.c, droppedRing, bufferedBytes: this.pendingBytes };
  }

  /** Drains the writer's rings into the files and sinks, then starts a write. */
  pump(): void {
    if (this.closed) return;
    // A flush per ring: the first starts a write, so maxBufferedBytes bounds what piles up behind it.
    for (const ring of this.rings) {
      ring.drain(this.appendRecord);
      this.flush();
    }
  }

  /** Queues one record (copied); false when it was dropped because the disk is behind. */
  append(record: Uint8Array): boolean {
    if (this.closed) return false;
    const frame = kFrameHeaderBytes + record.length;
    // Pumps start a write at once, so bytes pile up here only behind a write that is out.
    if (this.pendingBytes + frame > this.maxBuffered) {
      this.c.droppedSlowDisk++;
      return false;
    }
    const now = this.now();
    if (this.genBytes > 0 && (this.genBytes + frame > this.o.maxFileBytes || now - this.genStartedMs >= this.maxAgeMs)) this.endFile();
    if (this.genBytes === 0) this.genStartedMs = now;
    let chunk = this.pending[this.pending.length - 1];
    if (chunk === undefined || chunk.gen !== this.gen || chunk.buf.length - chunk.used < frame) {
      chunk = { gen: this.gen, startedMs: this.genStartedMs, buf: this.chunkBuffer(frame), used: 0, records: 0 };
      this.pending.push(chunk);
    }
    chunk.used = writeFrame(record, chunk.buf, chunk.used);
    chunk.records++;
    this.genBytes += frame;
    this.pendingBytes += frame;
    if (this.sinks.length > 0) this.sinkBatch.push(record.slice());
    return true;
  }

  /** Starts writing what waits (unless a write is out: it takes the rest when done); ends a file past its age. */
  flush(): void {
    if (this.genBytes > 0 && this.now() - this.genStartedMs >= this.maxAgeMs) this.endFile();
    if (this.sinkBatch.length > 0) {
      const batch = this.sinkBatch.splice(0);
      for (const s of this.sinks) s.write(batch);
    }
    if (this.writing === null && (this.pending.length > 0 || this.fileToClose())) {
      this.writing = this.run().finally(() => {
        this.writing = null;
      });
    }
  }

  /** Drains the rings, writes everything still waiting, closes the file and the sinks; idempotent. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    for (const ring of this.rings) ring.drain(this.appendRecord);
    this.closed = true;
    if (this.genBytes > 0) {
      this.gen++;
      this.genBytes = 0;
    }
    for (;;) {
      this.flush();
      if (this.writing === null) break;
      await this.writing;
    }
    for (const s of this.sinks) await s.close?.();
  }

  private endFile(): void {
    this.gen++;
    this.genBytes = 0;
    this.c.filesRotated++;
  }

  private fileToClose(): boolean {
    return this.file !== null && this.fileGen !== this.gen;
  }

  private chunkBuffer(frame: number): Buffer {
    if (frame > kChunkBytes) return Buffer.allocUnsafe(frame);
    return this.free.pop() ?? Buffer.allocUnsafe(kChunkBytes);
  }

  /** Writes until nothing waits, one writev per run of chunks of one file. */
  private async run(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      for (let i = 0; i < batch.length;) {
        let j = i;
        let bytes = 0;
        let records = 0;
        while (j < batch.length && batch[j].gen === batch[i].gen) {
          bytes += batch[j].used;
          records += batch[j].records;
          j++;
        }
        const group = batch.slice(i, j);
        this.pendingBytes -= bytes;
        try {
          const file = await this.fileFor(group[0]);
          await writeAll(file, group.map((ch) => ch.buf.subarray(0, ch.used)), bytes);
          this.c.written += records;
          this.c.bytes += bytes;
        } catch {
          // A full or failing disk: these records are lost and counted; the bidder goes on.
          this.c.writeErrors++;
          this.c.droppedSlowDisk += records;
        }
        for (const ch of group) if (ch.buf.length === kChunkBytes && this.free.length < kFreeChunks) this.free.push(ch.buf);
        i = j;
      }
    }
    if (this.fileToClose()) await this.closeFile();
  }

  private async fileFor(chunk: Chunk): Promise<EventFileHandle> {
    if (this.file !== null && this.fileGen === chunk.gen) return this.file;
    await this.closeFile();
    for (let tries = 0; ; tries++) {
      const name = `events-${stamp(chunk.startedMs)}-${this.instance}-${String(this.seq++).padStart(6, '0')}.fbl`;
      try {
        this.file = await this.openFile(join(this.o.dir, name));
        break;
      } catch (err) {
        // Another writer (a restarted process in the same millisecond) has the name: take the next.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 100) throw err;
      }
    }
    this.fileGen = chunk.gen;
    this.c.files++;
    return this.file;
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    this.file = null;
    this.fileGen = -1;
    try {
      await f?.close();
    } catch {
      this.c.writeErrors++;
    }
  }
}

/** writev, then whatever a short write left, until all `total` bytes are out. */
async function writeAll(file: EventFileHandle, buffers: Buffer[], total: number): Promise<void> {
  let done = (await file.writev(buffers)).bytesWritten;
  if (done >= total) return;
  const rest = Buffer.concat(buffers, total);
  while (done < total) {
    const n = (await file.writev([rest.subarray(done)])).bytesWritten;
    if (n <= 0) throw new Error('short write');
    done += n;
  }
}
