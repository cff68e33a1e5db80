/**
 * The shared corpus (../shared/corpus beside the repository), for the suites that run over
 * it: where it is, its request files, and the few requests in it that break a MUST.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CORPUS_DIR = path.resolve(__dirname, '../../../shared/corpus');

/**
 * Spec MUST violations found in the corpus (adapter test data of prebid-server, whose own
 * endpoint rejects the same requests), with the code they must get. 2.5 §3.2.13: "A bid
 * request must not contain both a Site and an App object"; §3.2.4: imp.id is "a unique
 * identifier for this impression within the context of the bid request", which a bid's
 * impid must reference.
 */
export const KNOWN_MUST_VIOLATIONS: Readonly<Record<string, string>> = {
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

/** Every .json file under `dir`, recursively, sorted; empty when `dir` is absent. */
export function listJson(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listJson(p));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

/** The corpus's bid requests: the spec examples, then the exchange requests. */
export function corpusRequestFiles(): string[] {
  return [...listJson(path.join(CORPUS_DIR, 'spec-examples/bid-request')), ...listJson(path.join(CORPUS_DIR, 'exchange-requests'))];
}
