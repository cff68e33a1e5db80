import t from 'tap';
import { priceCandidate, round4 } from '../../src/decisioning/pricing';
import { campaign } from './fixtures/builders';

const cpc = campaign({ goal: { type: 'CPC', cpcUsd: 0.8 }, maxCpmUsd: 20 });
const cand = (c = cpc, dealFloorUsd?: number) => ({ campaign: c, creative: c.creatives[0], ...(dealFloorUsd !== undefined ? { dealFloorUsd } : {}) });

t.test('CPC: ctr x cpc x 1000, rounded to 4 decimals', async (t) => {
  t.equal(priceCandidate(cand(), 0.01, 0), 8);
  t.equal(priceCandidate(cand(), 0.0123456, 0), 9.8765);
  t.equal(priceCandidate(cand(), 0, 0), 0, 'zero ctr is no bid');
  t.equal(priceCandidate(cand(), NaN, 0), 0);
  t.equal(priceCandidate(cand(), -0.1, 0), 0);
});

t.test('CPM: flat cpm regardless of ctr', async (t) => {
  const c = campaign({ goal: { type: 'CPM', cpmUsd: 2.5 }, maxCpmUsd: 5 });
  t.equal(priceCandidate(cand(c), 0.001, 0), 2.5);
  t.equal(priceCandidate(cand(c), 0.5, 0), 2.5);
});

t.test('capped at maxCpmUsd', async (t) => {
  const c = campaign({ goal: { type: 'CPC', cpcUsd: 2 }, maxCpmUsd: 12 });
  t.equal(priceCandidate(cand(c), 0.05, 0), 12);
  t.equal(priceCandidate(cand(c), 0.05, 12), 12, 'at the floor bids');
  t.equal(priceCandidate(cand(c), 0.05, 12.0001), 0, 'cap below floor: no bid');
});

t.test('below the effective floor (imp or deal, whichever is higher) is no bid', async (t) => {
  t.equal(priceCandidate(cand(), 0.01, 7.99), 8);
  t.equal(priceCandidate(cand(), 0.01, 8.01), 0);
  t.equal(priceCandidate(cand(cpc, 9), 0.01, 1), 0, 'deal floor above price');
  t.equal(priceCandidate(cand(cpc, 2), 0.01, 9), 0, 'imp floor above deal floor still applies');
  t.equal(priceCandidate(cand(cpc, 2), 0.01, 1), 8);
});

t.test('round4', async (t) => {
  t.equal(round4(1.23456), 1.2346);
  t.equal(round4(0.00004), 0);
});
