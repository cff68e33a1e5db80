/**
 * Seat rules (OpenRTB 2.6 3.2.1 `wseat` / `bseat` on the request, 3.2.12 `wseat` on a
 * deal): whether our seat, `DecisionConfig.seatId`, may bid. Seat ids are compared exactly,
 * as the exchange assigned them. Without a configured seat id we are on no allow list.
 */

/** Whether an allow list admits our seat: an absent or empty list admits every seat. */
export function seatListed(wseat: unknown, seatId: string | null): boolean {
  if (!Array.isArray(wseat) || wseat.length === 0) return true;
  return seatId !== null && wseat.indexOf(seatId) >= 0;
}

/**
 * Whether the request lets our seat bid at all: its `wseat` admits us and its `bseat` does
 * not name us. The spec asks exchanges to send at most one of the two; we honour both.
 */
export function requestAllowsSeat(wseat: unknown, bseat: unknown, seatId: string | null): boolean {
  if (!seatListed(wseat, seatId)) return false;
  return seatId === null || !Array.isArray(bseat) || bseat.indexOf(seatId) < 0;
}
