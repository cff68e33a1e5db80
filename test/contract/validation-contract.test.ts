/**
 * Walks every fixture in test/fixtures/requests and checks parseBidRequest against it:
 * 400 fixtures must fail with the expected code (and field, when given); every other
 * fixture must parse and validate. The server-level runner posts the same files over HTTP.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { parseBidRequest } from '../../src/openrtb/parse-request';
import { ERRORS, errorBody, type ErrorCode } from '../../src/errors';

interface Fixture {
  description: string;
  request?: unknown;
  rawBody?: string;
  expectedStatus: 400 | 200 | 204 | 'bid-or-nobid';
  expectedCode?: ErrorCode;
  expectedField?: string;
}

const dir = path.resolve(__dirname, '../fixtures/requests');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

t.ok(files.length >= 25, 'at least 25 fixtures');

for (const file of files) {
  const fx = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Fixture;
  t.test(file, (t) => {
    t.type(fx.description, 'string', 'has a description');
    t.ok(('request' in fx) !== ('rawBody' in fx), 'exactly one of request and rawBody');
    const body = fx.rawBody !== undefined ? fx.rawBody : JSON.stringify(fx.request);
    const r = parseBidRequest(body);
    if (fx.expectedStatus === 400) {
      t.ok(fx.expectedCode !== undefined && fx.expectedCode in ERRORS, 'names a known error code');
      t.equal(r.ok, false, fx.description + ': rejected');
      if (!r.ok) {
        t.equal(r.error.code, fx.expectedCode, 'code');
        t.equal(r.error.status, 400, 'status');
        if (fx.expectedField !== undefined) t.equal(r.error.field, fx.expectedField, 'field');
        const wire = JSON.parse(errorBody(r.error));
        t.equal(wire.code, fx.expectedCode, 'body carries the code');
      }
    } else {
      t.ok([200, 204, 'bid-or-nobid'].includes(fx.expectedStatus), 'known expectedStatus');
      t.equal(fx.expectedCode, undefined, 'valid fixtures name no error code');
      t.ok(r.ok, fx.description + (r.ok ? '' : ': ' + r.error.message));
    }
    t.end();
  });
}
