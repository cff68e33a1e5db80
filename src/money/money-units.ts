/**
 * Money units, in one place so the bid path and the notice path agree to the micro:
 * prices are CPMs; tokens carry a CPM in micro-units of the bid currency; budgets and spend
 * are integer micro-USD; one impression costs a thousandth of its CPM.
 */

/** A CPM as integer micro-units of its currency (what a notice token carries). */
export function cpmMicros(cpm: number): number {
  return Math.round(cpm * 1_000_000);
}

/**
 * What one impression at `cpmMicros` (micro-units of a currency worth `unitsPerUsd` per
 * USD) costs in micro-USD, rounded up: a reservation is never smaller than the bill it
 * covers. The same function prices the reservation at bid time and its release at notice
 * time, so they cancel exactly.
 */
export function impressionCostMicrosUsd(cpmMicrosValue: number, unitsPerUsd: number): number {
  return Math.ceil(cpmMicrosValue / 1000 / unitsPerUsd);
}

/** USD to integer micro-USD. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}
