/**
 * Bid requests the integration suites share, written inline so the suites do not depend
 * on the shared corpus beside the repository.
 */
import simpleBannerJson from './simple-banner.json';

/**
 * Shaped like the OpenRTB 2.6 "simple banner" example: one 300x250 imp on a site. The
 * sample campaigns bid on it. A JSON file so the image rehearsal (deploy/rehearse-image.mjs,
 * plain Node) sends the same request.
 */
export const SIMPLE_BANNER = simpleBannerJson;

/** The simple banner with another id (and optionally other top-level fields). */
export function simpleBanner(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...SIMPLE_BANNER, id, ...extra });
}

/** No sample campaign has a 1x1 creative: always a no-bid. */
export function oneByOne(id: string): string {
  return JSON.stringify({ ...SIMPLE_BANNER, id, imp: [{ id: '1', banner: { w: 1, h: 1 } }] });
}
