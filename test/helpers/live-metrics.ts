/**
 * The metric families a running bidder exports, read from its live /metrics: what the
 * shipped dashboards and rules may query. Families are listed (# TYPE) even before they
 * have a sample, so a series that appears only with a fleet or a canary still counts.
 */
import { parseExposition } from './prom-text';
import { scrape, startTestBidder, type ConfigOverrides } from './test-bidder';

export async function liveMetricFamilies(overrides: ConfigOverrides = {}): Promise<Set<string>> {
  const b = await startTestBidder(overrides);
  try {
    const exposition = parseExposition(await scrape(b.opsPort));
    if (exposition.errors.length > 0) throw new Error(`/metrics is malformed: ${exposition.errors.join('; ')}`);
    return new Set(exposition.families.keys());
  } finally {
    await b.close();
  }
}
