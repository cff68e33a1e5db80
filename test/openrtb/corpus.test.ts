/**
 * Every request of the shared corpus (real exchange traffic and the spec's examples) must
 * pass validation, except the few that break a MUST of the spec, which are listed below
 * with the code they must get. Skipped when the corpus is not beside the repository.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { parseBidRequest } from '../../src/openrtb/parse-request';
import { CORPUS_DIR as corpus, corpusRequestFiles, KNOWN_MUST_VIOLATIONS } from '../helpers/corpus';

if (!fs.existsSync(corpus)) {
  t.test('corpus requests validate', { skip: 'shared corpus not found at ' + corpus }, (t) => t.end());
} else {
  const files = corpusRequestFiles();
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
