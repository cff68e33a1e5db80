/**
 * The server-level runner of test/fixtures/requests: every fixture is POSTed to the real
 * bidder (rawBody verbatim, else the request serialised) and must get its expected
 * status; 400s must carry the expected code (and field, when the fixture names one).
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { checkResponseForRequest } from '../../src/openrtb/response-check';
import type { BidRequest } from '../../src/openrtb/types';
import { postBid, startTestBidder, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(60_000);

interface Fixture {
  description: string;
  request?: unknown;
  rawBody?: string;
  expectedStatus: 400 | 200 | 204 | 'bid-or-nobid';
  expectedCode?: string;
  expectedField?: string;
}

const dir = path.resolve(__dirname, '../fixtures/requests');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

let b: TestBidder;
t.before(async () => {
  b = await startTestBidder({ testHooks: false });
});
t.teardown(() => b?.close());

t.ok(files.length >= 25, `${files.length} fixtures`);

for (const file of files) {
  t.test(file, async (t) => {
    const fx = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Fixture;
    const body = fx.rawBody !== undefined ? fx.rawBody : JSON.stringify(fx.request);
    const r = await postBid(b.port, body);
    const label = `${fx.description} (got ${r.status} ${r.body.slice(0, 200)})`;
    if (fx.expectedStatus === 'bid-or-nobid') {
      t.ok(r.status === 200 || r.status === 204, label);
    } else {
      t.equal(r.status, fx.expectedStatus, label);
    }
    if (r.status === 204) t.equal(r.body, '', 'a no-bid has no body');
    if (r.status === 200) {
      const res = JSON.parse(r.body) as { id?: unknown };
      const req = (fx.request ?? JSON.parse(body)) as BidRequest;
      t.equal(res.id, req.id, 'the response echoes the request id');
      t.same(checkResponseForRequest(req, res), [], 'the bid response conforms to the request');
    }
    if (fx.expectedStatus === 400 && r.status === 400) {
      t.match(String(r.headers['content-type']), /application\/json/, 'error body is JSON');
      const e = JSON.parse(r.body) as { code?: string; message?: string; field?: string };
      t.equal(e.code, fx.expectedCode, 'code');
      t.type(e.message, 'string', 'message');
      if (fx.expectedField !== undefined) t.equal(e.field, fx.expectedField, 'field');
    }
  });
}
