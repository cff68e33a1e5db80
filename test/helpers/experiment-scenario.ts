/**
 * An event folder for the experiment report's tests (test/experiments/), written with the
 * real encoder and writer by two instances. Experiment e1, arms A (control) and B at 50/50:
 *
 *        requests  bids (bidding requests)  wins  bills x cost   clicks  value known
 *   A    600+400   250 (200: 50 bid twice)  100   80 x 2000 µ$   4       all 80 bills: +1000 µ each
 *   B    1000      300 (300)                150   150 x 2500 µ$  9       75 bills: +500 µ each
 *
 * A's bids 50..99 are also in experiment e2, arm X (no exposures, no control). Half of B's
 * bills carry no arm (joined to their bids), and they sit in the file that sorts first, so
 * they are read before their bids. Three test records (a bid, a win, an exposure) must not
 * count. Losses and a shadow record belong to no figure.
 */
import { EventEncoder, type EventFields } from '../../src/codec/event-records';
import { EventLogWriter } from '../../src/events/event-log-writer';

export const kScenarioNowMs = Date.UTC(2026, 11, 2, 12, 0, 0);

export function scenarioRecord(kind: EventFields['kind'], extra: Partial<EventFields> = {}): EventFields {
  return {
    kind, timeMs: kScenarioNowMs, requestId: '', impId: '1', bidId: '', campaignId: 'c1', creativeId: 'cr1', priceMicros: 0, currency: 'USD',
    clearingMicros: -1, costMicros: 0, lossReason: -1, minToWinMicros: -1, modelVersion: 'ctr@1', arm: '', test: false, instanceId: 'i-1', ...extra,
  };
}

export async function writeScenario(dir: string, more: readonly EventFields[] = []): Promise<void> {
  const enc = new EventEncoder();
  const w1 = new EventLogWriter({ dir, instanceId: 'i-1', maxFileBytes: 1 << 20, maxFileAgeSec: 3600, now: () => kScenarioNowMs });
  const w2 = new EventLogWriter({ dir, instanceId: 'i-2', maxFileBytes: 1 << 20, maxFileAgeSec: 3600, now: () => kScenarioNowMs });
  const put = (w: EventLogWriter, e: EventFields): void => {
    w.append(enc.encode(e));
  };
  put(w1, scenarioRecord('exposure', { arm: 'e1:A', count: 600, weight: 50, control: true }));
  put(w2, scenarioRecord('exposure', { arm: 'e1:A', count: 400, weight: 50, control: true, instanceId: 'i-2' }));
  put(w1, scenarioRecord('exposure', { arm: 'e1:B', count: 1000, weight: 50 }));
  for (let k = 0; k < 250; k++) {
    const arm = k >= 50 && k < 100 ? 'e1:A,e2:X' : 'e1:A';
    const ids = { arm, requestId: `A-r${k < 200 ? k : k - 200}`, bidId: `A-b${k}`, segment: 7 };
    put(w2, scenarioRecord('bid', { ...ids, instanceId: 'i-2', priceMicros: 2_500_000, valueMicros: 3_000_000, ctr: 0.04 }));
    if (k < 100) put(w2, scenarioRecord('win', { ...ids, instanceId: 'i-2', priceMicros: 2_500_000, clearingMicros: 2_000_000 }));
    else put(w2, scenarioRecord('loss', { ...ids, instanceId: 'i-2', lossReason: 102 }));
    if (k < 80) put(w2, scenarioRecord('bill', { ...ids, instanceId: 'i-2', priceMicros: 2_500_000, clearingMicros: 2_000_000, costMicros: 2000 }));
    if (k < 4) put(w2, scenarioRecord('click', { ...ids, instanceId: 'i-2' }));
  }
  for (let k = 0; k < 300; k++) {
    const ids = { arm: 'e1:B', requestId: `B-r${k}`, bidId: `B-b${k}` };
    put(w2, scenarioRecord('bid', { ...ids, instanceId: 'i-2', priceMicros: 3_000_000, valueMicros: k < 75 ? 3_500_000 : -1 }));
    if (k < 150) {
      put(w2, scenarioRecord('win', { ...ids, instanceId: 'i-2', priceMicros: 3_000_000, clearingMicros: 3_000_000 }));
      put(w1, scenarioRecord('bill', { ...ids, arm: k % 2 === 0 ? '' : 'e1:B', priceMicros: 3_000_000, clearingMicros: 3_000_000, costMicros: 2500 }));
    }
    if (k < 9) put(w2, scenarioRecord('click', { ...ids, instanceId: 'i-2' }));
  }
  put(w2, scenarioRecord('shadow', { arm: 'e1:B', instanceId: 'i-2', ctr: 0.05, shadowModel: 'ctr@2', shadowCtr: 0.06 }));
  put(w1, scenarioRecord('bid', { arm: 'e1:A', requestId: 'T-r', bidId: 'T-b', test: true }));
  put(w1, scenarioRecord('win', { arm: 'e1:A', requestId: 'T-r', bidId: 'T-b', test: true }));
  put(w1, scenarioRecord('exposure', { arm: 'e1:A', count: 999, weight: 50, control: true, test: true }));
  for (const e of more) put(w1, e);
  await w1.close();
  await w2.close();
}
