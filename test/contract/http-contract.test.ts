/**
 * The server-level pass over the contract fixtures (test/fixtures/README.md): every fixture
 * that runs on the default bidder (no campaign file, no config overrides of its own) is
 * POSTed to one real test bidder (rawBody verbatim, else the request serialised), through
 * the front end, the pool and the workers. Its answer must meet the same expectations as
 * in the in-process runner (fixtures.test.ts), except the no-bid reason, which is not on
 * the wire: a 204 is checked by status and empty body only.
 */
import t from 'tap';
import { checkResponseForRequest } from '../../src/openrtb/response-check';
import type { BidRequest } from '../../src/openrtb/types';
import { bodyOf, compareBids, compareError, loadFixtures, usesDefaultBidder } from '../fixtures/fixture-format';
import { postBid, startTestBidder, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(60_000);

// Malformed fixtures are reported by fixtures.test.ts; here they are only skipped.
const fixtures = loadFixtures().filter((lf) => lf.fixture !== null && usesDefaultBidder(lf.fixture));

let b: TestBidder;
t.before(async () => {
  b = await startTestBidder({ testHooks: false });
});
t.teardown(() => b?.close());

t.ok(fixtures.length >= 40, `${fixtures.length} fixtures run on the default bidder`);

for (const { name, fixture } of fixtures) {
  const fx = fixture!;
  t.test(name, async (t) => {
    const body = bodyOf(fx);
    const r = await postBid(b.port, body);
    const e = fx.expect;
    t.equal(r.status, e.status, `${fx.description} (got ${r.status} ${r.body.slice(0, 200)})`);
    if (r.status !== e.status) return;
    if (e.status === 204) {
      t.equal(r.body, '', 'a no-bid has no body');
    } else if (e.status === 400) {
      t.match(String(r.headers['content-type']), /application\/json/, 'the error body is JSON');
      t.same(compareError(e, r.body), [], 'code and field');
    } else {
      t.match(String(r.headers['content-type']), /application\/json/, 'the response is JSON');
      t.same(compareBids(e, r.body), [], 'the expected bids');
      t.same(checkResponseForRequest(JSON.parse(body) as BidRequest, JSON.parse(r.body)), [], 'the response conforms to the request');
    }
  });
}
