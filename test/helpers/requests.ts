/**
 * Bid requests the integration suites share, written inline so the suites do not depend
 * on the shared corpus beside the repository.
 */

/** Shaped like the OpenRTB 2.6 "simple banner" example: one 300x250 imp on a site. The sample campaigns bid on it. */
export const SIMPLE_BANNER = {
  id: '80ce30c53c16e6ede735f123ef6e32361bfc7b22',
  at: 1,
  cur: ['USD'],
  imp: [{ id: '1', bidfloor: 0.03, banner: { h: 250, w: 300, pos: 0 } }],
  site: {
    id: '102855',
    cat: ['IAB3-1'],
    domain: 'www.foobar.com',
    page: 'http://www.foobar.com/1234.html',
    publisher: { id: '8953', name: 'foobar.com', cat: ['IAB3-1'], domain: 'foobar.com' },
  },
  user: { id: '55816b39711f9b5acf3b90e313ed29e51665623f' },
};

/** The simple banner with another id (and optionally other top-level fields). */
export function simpleBanner(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...SIMPLE_BANNER, id, ...extra });
}

/** No sample campaign has a 1x1 creative: always a no-bid. */
export function oneByOne(id: string): string {
  return JSON.stringify({ ...SIMPLE_BANNER, id, imp: [{ id: '1', banner: { w: 1, h: 1 } }] });
}
