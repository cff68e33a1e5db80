/**
 * The task the front end hands a pool worker: a Float64Array of request descriptors,
 * transferred (not cloned). Bodies are not in it: they stay in the shared receive slab
 * where the front end copied them, and each descriptor names their offset and length.
 *
 * Layout (Float64 words):
 *   [kTaskCount, kTaskDispatchedAt] then kRequestWords words per request:
 *   [kReqId, kReqArrivedAt, kReqReceivedAt, kReqOffset, kReqLength, kReqFlags]
 * Times are process-wide monotonic milliseconds (see src/util/clock.ts).
 */

export const kTaskCount = 0;
export const kTaskDispatchedAt = 1;
export const kTaskHeaderWords = 2;

export const kReqId = 0;
export const kReqArrivedAt = 1;
export const kReqReceivedAt = 2;
export const kReqOffset = 3;
export const kReqLength = 4;
export const kReqFlags = 5;
export const kRequestWords = 6;

/** The body is gzip-compressed (Content-Encoding: gzip). */
export const kFlagGzip = 1;
/** Test hook: the worker exits while holding the batch. */
export const kFlagTestCrash = 2;
/** Test hook: the worker sleeps (flags >>> kDelayShift) ms before scoring. */
export const kDelayShift = 8;

export function taskWords(requests: number): number {
  return kTaskHeaderWords + requests * kRequestWords;
}

export function requestBase(index: number): number {
  return kTaskHeaderWords + index * kRequestWords;
}
