import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { postBid, send, startTestBidder, REPO_ROOT } from '../helpers/test-bidder';

t.test('bidder starts, is ready, and bids on a banner request', async (t) => {
  const b = await startTestBidder();
  t.teardown(() => b.close());
  const ready = await send(b.port, 'GET', '/readyz');
  t.equal(ready.status, 200);
  const body = readFileSync(resolve(REPO_ROOT, 'workers/../test/fixtures/requests/valid-minimal-banner.json'), 'utf8');
  const fixture = JSON.parse(body);
  const res = await postBid(b.port, JSON.stringify(fixture.request));
  t.ok(res.status === 200 || res.status === 204, `status ${res.status}`);
});
