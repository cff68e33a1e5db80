/**
 * A canary's ramp, as a pure state machine: it takes 1%, then 5%, 25% and 100% of
 * requests, each for `stepSec`, and is promoted to active after the last step. At every
 * check, what the canary did during its current step (session runs, failed runs, seconds
 * in session.run) is held against the bounds: more failed runs than `maxErrorPermille`
 * per 1,000, or a mean run time over `maxRunUs`, rolls it back at once. A step with
 * fewer than kMinRunsToJudge runs is judged on errors only when any occurred (one failed
 * run of three is a fact, a mean over three runs is noise) and is extended, not passed,
 * until it has enough runs: a canary is never promoted on no evidence.
 */

/** Share of requests at each step, in basis points (1/10,000). */
export const kCanarySteps = [100, 500, 2_500, 10_000] as const;
/** Runs a step needs before its latency is judged and before it may pass. */
export const kMinRunsToJudge = 20;

export interface CanaryBounds {
  stepSec: number;
  maxErrorPermille: number;
  maxRunUs: number;
  /** Runs a step needs to be judged on latency and to pass (default kMinRunsToJudge). */
  minRuns?: number;
}

/** What the canary's model did, cumulative since start (the per-model counters). */
export interface CanaryCounters {
  runs: number;
  errors: number;
  runSeconds: number;
}

export type CanaryVerdict =
  | { kind: 'hold' }
  | { kind: 'step'; basisPoints: number }
  | { kind: 'promote' }
  | { kind: 'rollback'; reason: 'errors' | 'latency'; detail: string };

export class CanaryRamp {
  private step = 0;
  private stepStartedMs: number;
  private atStepStart: CanaryCounters;

  constructor(private readonly bounds: CanaryBounds, nowMs: number, counters: CanaryCounters) {
    this.stepStartedMs = nowMs;
    this.atStepStart = { ...counters };
  }

  get basisPoints(): number {
    return kCanarySteps[this.step];
  }

  get stepIndex(): number {
    return this.step;
  }

  check(nowMs: number, counters: CanaryCounters): CanaryVerdict {
    const runs = counters.runs - this.atStepStart.runs;
    const errors = counters.errors - this.atStepStart.errors;
    const seconds = counters.runSeconds - this.atStepStart.runSeconds;
    if (errors > 0 && runs > 0 && (errors * 1000) / runs > this.bounds.maxErrorPermille) {
      return { kind: 'rollback', reason: 'errors', detail: `${errors} of ${runs} runs failed at ${this.basisPoints / 100}% (bound ${this.bounds.maxErrorPermille} per 1,000)` };
    }
    const minRuns = this.bounds.minRuns ?? kMinRunsToJudge;
    if (runs >= minRuns) {
      const meanUs = (seconds / runs) * 1e6;
      if (meanUs > this.bounds.maxRunUs) {
        return { kind: 'rollback', reason: 'latency', detail: `mean run ${meanUs.toFixed(0)} us over ${runs} runs at ${this.basisPoints / 100}% (bound ${this.bounds.maxRunUs} us)` };
      }
    }
    if (nowMs - this.stepStartedMs < this.bounds.stepSec * 1000 || runs < minRuns) return { kind: 'hold' };
    if (this.step === kCanarySteps.length - 1) return { kind: 'promote' };
    this.step++;
    this.stepStartedMs = nowMs;
    this.atStepStart = { ...counters };
    return { kind: 'step', basisPoints: this.basisPoints };
  }
}
