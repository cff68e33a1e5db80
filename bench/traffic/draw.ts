/**
 * The traffic generator's randomness: one mulberry32 stream and the helpers that draw from
 * it, plus the deterministic helpers the parts share. Nothing here reads a clock or
 * Math.random, so the same seed gives the same requests on every machine.
 */
// The model builder's PRNG: integer arithmetic only, so every platform draws the same bits.
import { mulberry32 } from '../../native-models/prng';

export type Obj = Record<string, unknown>;

/** Draws from one mulberry32 stream. */
export class Draw {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  f(): number {
    return this.next();
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)];
  }
  /** Uniform in [lo, hi), rounded to `dp` decimals. */
  range(lo: number, hi: number, dp: number): number {
    const k = 10 ** dp;
    return Math.round((lo + this.next() * (hi - lo)) * k) / k;
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += ((this.next() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, n);
  }
  /** A version-4 UUID. */
  uuid(): string {
    const h = this.hex(32);
    const variant = '89ab'[this.int(0, 3)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  /** Base64url-alphabet text, as consent strings and many ids look. */
  b64(n: number): string {
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let s = '';
    for (let i = 0; i < n; i++) s += A[Math.floor(this.next() * 64)];
    return s;
  }
}

/** A weighted choice, with the cumulative weights computed once at load. */
export class Weighted<T> {
  private readonly cum: number[] = [];
  private readonly total: number;
  constructor(private readonly values: readonly T[], weights: readonly number[]) {
    let t = 0;
    for (const w of weights) this.cum.push((t += w));
    this.total = t;
  }
  static of<T>(pairs: readonly (readonly [number, T])[]): Weighted<T> {
    return new Weighted(pairs.map((p) => p[1]), pairs.map((p) => p[0]));
  }
  draw(d: Draw): T {
    const x = d.f() * this.total;
    for (let i = 0; i < this.cum.length; i++) if (x < this.cum[i]) return this.values[i];
    return this.values[this.values.length - 1];
  }
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;
export const round4 = (x: number): number => Math.round(x * 10000) / 10000;

/** FNV-1a, for ids that must stay the same for the same site or app across requests. */
export function stableId(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
