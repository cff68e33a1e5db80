/**
 * The answer to a task, as a flatbuffers BatchReply (schema: bid-batch.fbs). Workers
 * write it with one reused builder; the front end reads bodies as byte views straight
 * out of the transferred buffer, so no string is built on the front-end thread.
 */
import * as flatbuffers from 'flatbuffers';
import { BatchReply, Reply } from './generated/bid-batch_generated';

export { BatchReply, Reply };

/**
 * A reply status that is no HTTP status: the engine did not answer the request and hands it
 * back (the inline lane met a consent string no thread has decoded yet; it never decodes on
 * the front-end thread). The dispatcher re-queues such a request for the pool, keeping its
 * receive-slab region, and never gives it to the inline lane again.
 */
export const kStatusDeferred = 1;

/** Builds one BatchReply at a time; reused across batches to avoid regrowing. */
export class ReplyWriter {
  private readonly builder = new flatbuffers.Builder(64 * 1024);
  private offsets: number[] = [];
  /** Reused UTF-8 scratch: the builder's own string path allocates a TextEncoder array per call. */
  private scratch = Buffer.allocUnsafeSlow(64 * 1024);

  begin(): void {
    this.builder.clear();
    this.offsets.length = 0;
  }

  add(requestId: number, status: number, outcome: number, body: string | null): void {
    this.addReply(requestId, status, outcome, body === null ? 0 : this.builder.createString(this.utf8(body)));
  }

  /** As add(), the body already UTF-8 (copied here; the view may be reused once this returns). */
  addUtf8(requestId: number, status: number, outcome: number, body: Uint8Array): void {
    this.addReply(requestId, status, outcome, this.builder.createString(body));
  }

  private addReply(requestId: number, status: number, outcome: number, bodyOffset: number): void {
    const b = this.builder;
    Reply.startReply(b);
    Reply.addRequestId(b, requestId);
    Reply.addStatus(b, status);
    Reply.addOutcome(b, outcome);
    if (bodyOffset !== 0) Reply.addBody(b, bodyOffset);
    this.offsets.push(Reply.endReply(b));
  }

  private utf8(text: string): Uint8Array {
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
    if (text.length * 3 > this.scratch.length) {
      this.scratch = Buffer.allocUnsafeSlow(Math.max(text.length * 3, this.scratch.length * 2));
    }
    const n = this.scratch.write(text, 0, 'utf8');
    return this.scratch.subarray(0, n);
  }

  /** Finishes the message and returns it in a buffer of its own, ready to transfer. */
  finish(workerSlot: number, startedAtMs: number, finishedAtMs: number): ArrayBuffer {
    const b = this.builder;
    const replies = BatchReply.createRepliesVector(b, this.offsets);
    BatchReply.startBatchReply(b);
    BatchReply.addWorkerSlot(b, workerSlot);
    BatchReply.addStartedAtMs(b, startedAtMs);
    BatchReply.addFinishedAtMs(b, finishedAtMs);
    BatchReply.addReplies(b, replies);
    b.finish(BatchReply.endBatchReply(b));
    const view = b.asUint8Array();
    // The builder's buffer is reused; hand over an exact copy that can be transferred. An
    // unpooled, uninitialised allocation is exactly that length, and skips zero-filling
    // what set() overwrites at once (tens of KB per batch).
    const out = Buffer.allocUnsafeSlow(view.byteLength);
    out.set(view);
    return out.buffer;
  }
}

export function readBatchReply(buffer: ArrayBuffer): BatchReply {
  return BatchReply.getRootAsBatchReply(new flatbuffers.ByteBuffer(new Uint8Array(buffer)));
}
