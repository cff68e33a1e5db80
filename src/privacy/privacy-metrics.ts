/**
 * The engine's privacy counters, written into its thread's metrics slot: every answered
 * request under its primary signal and outcome (bidder_privacy_requests_total), each
 * malformed consent string (bidder_privacy_malformed_total), each deferral to the pool
 * (bidder_privacy_deferred_total). Offsets are resolved once, so counting is an index and
 * an add.
 */
import { M } from '../metrics/definitions';
import type { SlotWriter } from '../metrics/shared-metrics';
import {
  CONSENT_FORMATS,
  kPrivacyMalformedGpp,
  kPrivacyMalformedTcf,
  kPrivacyMalformedUsp,
  PRIVACY_OUTCOMES,
  PRIVACY_SIGNALS,
  primarySignal,
} from './privacy-bits';

const kOutcomeBid = 0;
const kOutcomeNoBid = 1;
const kOutcomeError = 2;
const kOutcomes = PRIVACY_OUTCOMES.length;
const kMalformedMask = kPrivacyMalformedTcf | kPrivacyMalformedGpp | kPrivacyMalformedUsp;

export class PrivacyCounters {
  /** Offset of (signal, outcome) at signal * kOutcomes + outcome. */
  private readonly requests: Int32Array;
  private readonly malformedTcf: number;
  private readonly malformedGpp: number;
  private readonly malformedUsp: number;
  private readonly deferrals: number;

  constructor(private readonly metrics: SlotWriter) {
    const layout = metrics.layout;
    this.requests = Int32Array.from(PRIVACY_SIGNALS.flatMap((s) => PRIVACY_OUTCOMES.map((o) => layout.offset(M.privacyRequests, [s, o]))));
    const [tcf, gpp, usp] = CONSENT_FORMATS;
    this.malformedTcf = layout.offset(M.privacyMalformed, [tcf]);
    this.malformedGpp = layout.offset(M.privacyMalformed, [gpp]);
    this.malformedUsp = layout.offset(M.privacyMalformed, [usp]);
    this.deferrals = layout.offset(M.privacyDeferred);
  }

  /** One answered request: its privacy bits (negative: never resolved, not counted) and HTTP status. */
  answered(bits: number, status: number): void {
    if (bits < 0) return;
    const outcome = status === 200 ? kOutcomeBid : status === 204 ? kOutcomeNoBid : kOutcomeError;
    this.metrics.inc(this.requests[primarySignal(bits) * kOutcomes + outcome]);
    if ((bits & kMalformedMask) === 0) return;
    if ((bits & kPrivacyMalformedTcf) !== 0) this.metrics.inc(this.malformedTcf);
    if ((bits & kPrivacyMalformedGpp) !== 0) this.metrics.inc(this.malformedGpp);
    if ((bits & kPrivacyMalformedUsp) !== 0) this.metrics.inc(this.malformedUsp);
  }

  deferred(): void {
    this.metrics.inc(this.deferrals);
  }
}
