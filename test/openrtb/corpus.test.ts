/**
 * Every request of the shared corpus (real exchange traffic and the spec's examples) must
 * pass validation, except the few that break a MUST of the spec, which are listed below
 * with the code they must get. Skipped when the corpus is not beside the repository.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { parseBidRequest } from '../../src/openrtb/parse-request';

const corpus = path.resolve(__dirname, '../../../shared/corpus');

/**
 * Spec MUST violations found in the corpus (adapter test data of prebid-server, whose own
 * endpoint rejects the same requests). 2.5 §3.2.13: "A bid request must not contain both a
 * Site and an App object"; §3.2.4: imp.id is "a unique identifier for this impression
 * within the context of the bid request", which a bid's impid must reference.
 */
const KNOWN_MUST_VIOLATIONS: Record<string, string> = {
  'exchange-requests/logicad-53a351280d62.json': 'DUPLICATE_IMP_ID',
  'exchange-requests/rubicon-09db9350770e.json': 'SITE_AND_APP',
  'exchange-requests/rubicon-190699a2959f.json': 'SITE_AND_APP',
  'exchange-requests/rubicon-3260090352a1.json': 'SITE_AND_APP',
  'exchange-requests/rubicon-3fa967b155cd.json': 'SITE_AND_APP',
  'exchange-requests/rubicon-5201080bf1ad.json': 'SITE_AND_APP',
  'exchange-requests/rubicon-73281fe792a4.json': 'SITE_AND_APP',
  'exchange-requests/rubicon-bb104d42dce0.json': 'SITE_AND_APP',
  'exchange-requests/teal-0bf4098348a9.json': 'SITE_AND_APP',
};

function listJson(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listJson(p));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

if (!fs.existsSync(corpus)) {
  t.test('corpus requests validate', { skip: 'shared corpus not found at ' + corpus }, (t) => t.end());
} else {
  const files = [...listJson(path.join(corpus, 'spec-examples/bid-request')), ...listJson(path.join(corpus, 'exchange-requests'))];
  t.ok(files.length > 400, files.length + ' corpus requests');
  let passed = 0;
  for (const f of files) {
    const rel = path.relative(corpus, f).split(path.sep).join('/');
    const r = parseBidRequest(fs.readFileSync(f, 'utf8'));
    const expected = KNOWN_MUST_VIOLATIONS[rel];
    if (expected === undefined) {
      if (r.ok) passed++;
      else t.fail(rel + ' rejected: ' + r.error.code + ' ' + r.error.message);
    } else {
      t.equal(r.ok ? 'ok' : r.error.code, expected, rel + ' breaks a spec MUST');
    }
  }
  t.equal(passed, files.length - Object.keys(KNOWN_MUST_VIOLATIONS).length, passed + '/' + files.length + ' validate OK');
}
