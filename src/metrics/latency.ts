/**
 * HDR histograms of each request stage, in integer microseconds, for tail-latency work
 * (/debug/latency). Recorded on the front-end thread only, where every stage's
 * timestamps meet; a record costs about 100 ns (`npm run bench:micro -- metrics`).
 */
import * as hdr from 'hdr-histogram-js';
import { STAGES, type Stage } from './definitions';

const kHighestTrackableUs = 60_000_000;

export class StageLatency {
  private readonly histograms: hdr.Histogram[];

  constructor() {
    this.histograms = STAGES.map(() =>
      hdr.build({
        bitBucketSize: 32,
        autoResize: false,
        lowestDiscernibleValue: 1,
        highestTrackableValue: kHighestTrackableUs,
        numberOfSignificantValueDigits: 3,
        useWebAssembly: false,
      }),
    );
  }

  /** Stage index as in STAGES; value in milliseconds (converted to whole microseconds). */
  record(stage: number, ms: number): void {
    let us = Math.round(ms * 1000);
    if (us < 1) us = 1;
    else if (us > kHighestTrackableUs) us = kHighestTrackableUs;
    this.histograms[stage].recordValue(us);
  }

  reset(): void {
    for (const h of this.histograms) h.reset();
  }

  toJSON(): Record<Stage, StageSummary> {
    const out = {} as Record<Stage, StageSummary>;
    STAGES.forEach((stage, i) => {
      const h = this.histograms[i];
      out[stage] = {
        count: h.totalCount,
        mean: Math.round(h.mean * 10) / 10,
        p50: h.getValueAtPercentile(50),
        p90: h.getValueAtPercentile(90),
        p99: h.getValueAtPercentile(99),
        p999: h.getValueAtPercentile(99.9),
        p9999: h.getValueAtPercentile(99.99),
        max: h.maxValue,
      };
    });
    return out;
  }

  toText(): string {
    const parts: string[] = ['# Request latency by stage, microseconds (HDR histograms since start)\n'];
    STAGES.forEach((stage, i) => {
      parts.push(`\n## stage=${stage}\n`);
      parts.push(this.histograms[i].outputPercentileDistribution());
    });
    return parts.join('');
  }
}

export interface StageSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}
