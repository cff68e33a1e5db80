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
/**
 * The inline lane deferred this request (reply kStatusDeferred): no cache it can read
 * held its consent string's decision. Set by the dispatcher; such a request goes to the
 * pool only, and the worker publishes the decision to the shared consent table even when
 * its own cache already held it, so the lane finds it next time (src/privacy).
 */
export const kFlagConsentDeferred = 4;
/** Test hook: the worker sleeps (flags >>> kDelayShift) ms before scoring. */
export const kDelayShift = 8;

export function taskWords(requests: number): number {
  return kTaskHeaderWords + requests * kRequestWords;
}

export function requestBase(index: number): number {
  return kTaskHeaderWords + index * kRequestWords;
}

/** What a task says of one request. */
export interface TaskRequest {
  arrivedAt: number;
  receivedAt: number;
  offset: number;
  length: number;
  flags: number;
}

/** Lays out a task for `requests` (request i gets id i); the buffer is meant to be transferred. */
export function writeTask(requests: readonly TaskRequest[], dispatchedAt: number): Float64Array {
  const words = new Float64Array(taskWords(requests.length));
  words[kTaskCount] = requests.length;
  words[kTaskDispatchedAt] = dispatchedAt;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i];
    const base = requestBase(i);
    words[base + kReqId] = i;
    words[base + kReqArrivedAt] = r.arrivedAt;
    words[base + kReqReceivedAt] = r.receivedAt;
    words[base + kReqOffset] = r.offset;
    words[base + kReqLength] = r.length;
    words[base + kReqFlags] = r.flags;
  }
  return words;
}
