/**
 * PLACEHOLDER — being written. Seeded generator of realistic production-sized OpenRTB 2.6
 * bid requests (1-4 KB).
 */
export interface GeneratorOptions {
  /** Same seed, same requests, byte for byte. */
  seed: number;
  count: number;
  /** Impressions per request: a fixed number, or an inclusive [min, max] range. Default [1, 5]. */
  imps?: number | [number, number];
}

export function generateRequests(_o: GeneratorOptions): Buffer[] {
  throw new Error('not yet written');
}
