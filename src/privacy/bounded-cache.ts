/**
 * One thread's cache from a consent string to its decision (a small integer), bounded so
 * that a stream of distinct strings cannot grow memory: when full, the oldest entry goes
 * (first in, first out). A hit costs one Map lookup and never reorders, so the hot path
 * does not write; the few strings that dominate traffic are re-inserted soon after any
 * eviction.
 */
export class BoundedCache {
  private readonly map = new Map<string, number>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`cache capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, or undefined. */
  get(key: string): number | undefined {
    return this.map.get(key);
  }

  set(key: string, value: number): void {
    const map = this.map;
    if (map.size >= this.capacity && !map.has(key)) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, value);
  }
}
