/**
 * Every request of the shared corpus (the spec's examples and real exchange traffic),
 * POSTed to one real bidder: each answer is a conformant bid (200) or an empty no-bid
 * (204), never a 5xx or a hang; only the requests that break a spec MUST get a 400, with
 * the code for the MUST they break. Skipped when the corpus is not beside the repository.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { checkResponseForRequest } from '../../src/openrtb/response-check';
import type { BidRequest } from '../../src/openrtb/types';
import { CORPUS_DIR, corpusRequestFiles, KNOWN_MUST_VIOLATIONS } from '../helpers/corpus';
import { postBid, startTestBidder, withTimeout, type HttpResult, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(60_000);

const kPerRequestMs = 5_000;
const kConcurrency = 16;
const kMinExchangeBidShare = 0.25;

if (!fs.existsSync(CORPUS_DIR)) {
  t.test('corpus over HTTP', { skip: `shared corpus not found at ${CORPUS_DIR}: conformance suite skipped` }, (t) => t.end());
} else {
  const files = corpusRequestFiles();

  let b: TestBidder;
  t.before(async () => {
    b = await startTestBidder({ testHooks: false });
  });
  t.teardown(() => b?.close());

  t.test('every corpus request gets a conformant answer', async (t) => {
    t.ok(files.length > 400, `${files.length} corpus requests`);
    const rels = files.map((f) => path.relative(CORPUS_DIR, f).split(path.sep).join('/'));
    const bodies = files.map((f) => fs.readFileSync(f));
    const results: (HttpResult | Error)[] = new Array(files.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < files.length) {
        const i = next++;
        results[i] = await withTimeout(postBid(b.port, bodies[i]), kPerRequestMs, rels[i]).catch((e: Error) => e);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: kConcurrency }, lane));
    t.comment(`${files.length} requests in ${Date.now() - started} ms`);

    const rejected: Record<string, string> = {};
    let exchange = 0;
    let exchangeBids = 0;
    let problems = 0;
    for (let i = 0; i < files.length; i++) {
      const rel = rels[i];
      const r = results[i];
      if (r instanceof Error) {
        t.fail(`${rel}: ${r.message}`);
        problems++;
        continue;
      }
      const isExchange = rel.startsWith('exchange-requests/');
      if (isExchange) exchange++;
      if (r.status === 400) {
        const code = (JSON.parse(r.body) as { code?: string }).code ?? '(no code)';
        rejected[rel] = code;
        continue;
      }
      if (r.status === 204) {
        if (r.body !== '') {
          t.fail(`${rel}: 204 with a body`);
          problems++;
        }
        continue;
      }
      if (r.status !== 200) {
        t.fail(`${rel}: status ${r.status} ${r.body.slice(0, 200)}`);
        problems++;
        continue;
      }
      if (isExchange) exchangeBids++;
      const req = JSON.parse(bodies[i].toString('utf8')) as BidRequest;
      const found = checkResponseForRequest(req, JSON.parse(r.body));
      if (found.length > 0) {
        t.fail(`${rel}: non-conformant bid: ${found.slice(0, 5).join('; ')}`);
        problems++;
      }
    }
    t.equal(problems, 0, 'every answer is a conformant 200 or an empty 204');
    t.same(rejected, KNOWN_MUST_VIOLATIONS, 'exactly the MUST violations get a 400, with their codes');
    const share = exchange === 0 ? 0 : exchangeBids / exchange;
    t.comment(`bid share over exchange-requests: ${exchangeBids}/${exchange} = ${(share * 100).toFixed(1)}%`);
    t.ok(share >= kMinExchangeBidShare, `bid share ${(share * 100).toFixed(1)}% >= ${kMinExchangeBidShare * 100}%`);
  });
}
