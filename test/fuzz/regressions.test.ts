/**
 * Minimal cases the fuzzers found, each through the real warmed bid engine, kept after
 * their fix so the defect cannot come back.
 */
import t from 'tap';
import { answerProblems } from './fixtures/answer-check';
import { startFuzzEngine, type FuzzEngine } from './fixtures/fuzz-engine';

let engine: FuzzEngine;
t.before(async () => {
  engine = await startFuzzEngine();
});

t.test(
  'a native request whose assets share an id gets no bid (an answer could not say which asset it fills)',
  async (t) => {
    // Native 1.2 4.2: asset.id is a "unique asset ID". Here id 1 is both an image and a
    // required title; the bidder answered id 1 with a title, and the response check reads
    // id 1 as the image the request named first. Found by engine.test.ts (seed 20260611).
    const text = JSON.stringify({
      id: 'dup-asset-ids',
      imp: [{ id: '1', native: { request: JSON.stringify({ ver: '1.2', assets: [{ id: 1, img: { type: 1, w: 300, h: 250 } }, { id: 1, required: 1, title: { len: 107 } }] }) } }],
      site: { domain: 'news.example.com' },
    });
    const a = await engine.answerText(text);
    t.same(answerProblems(text, a.status, a.body), [], `answered ${a.status}`);
    // The only imp is native and its request is unanswerable: no bid at all.
    t.equal(a.status, 204, 'no bid for a native request with duplicate asset ids');
  },
);
