/**
 * The validation contract: every contract fixture (test/fixtures/README.md) through
 * parseBidRequest alone. A 400 fixture must be rejected there, with its code and field
 * (absent when the fixture names none) and a status of 400; every other fixture must
 * parse and validate, whatever the bid path later decides. fixtures.test.ts runs the same
 * files through the whole engine, http-contract.test.ts through the server.
 */
import t from 'tap';
import { errorBody } from '../../src/errors';
import { parseBidRequest } from '../../src/openrtb/parse-request';
import { bodyOf, compareError, loadFixtures } from '../fixtures/fixture-format';

// Malformed fixtures are reported by fixtures.test.ts; here they are only skipped.
const fixtures = loadFixtures().filter((lf) => lf.fixture !== null);

t.ok(fixtures.length >= 50, `${fixtures.length} fixtures`);

for (const { name, fixture } of fixtures) {
  const fx = fixture!;
  t.test(name, (t) => {
    const r = parseBidRequest(bodyOf(fx));
    const e = fx.expect;
    if (e.status === 400) {
      t.equal(r.ok, false, `${fx.description}: rejected`);
      if (!r.ok) {
        t.equal(r.error.status, 400, 'status');
        t.same(compareError(e, errorBody(r.error)), [], 'code and field, as the body carries them');
        t.equal(r.error.field, e.field, 'the error value names the same field');
      }
    } else {
      t.ok(r.ok, fx.description + (r.ok ? '' : `: rejected with ${r.error.code} ${r.error.message}`));
    }
    t.end();
  });
}
