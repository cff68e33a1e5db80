/**
 * Property-based fuzzing of the bid path in-process, through the real warmed bid engine
 * (src/engine/engine-setup.ts): corpus requests mutated at the value and text level, random
 * JSON, OpenRTB-shaped requests with hostile values, nesting bombs, and bodies as bytes
 * (gzip, bad UTF-8, truncated gzip). Every answer is a conformant 200, a bodyless 204, or
 * a 4xx with a known code; nothing throws. Seed and case count: fixtures/fuzz-settings.ts.
 */
import t from 'tap';
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TapTest } from '../helpers/test-bidder';
import { answerProblems } from './fixtures/answer-check';
import { knownDefect } from './fixtures/known-defects';
import { startFuzzEngine, type EngineAnswer, type FuzzEngine } from './fixtures/fuzz-engine';
import {
  deepRequest,
  loadSeeds,
  mutatedSeed,
  openRtbRequest,
  randomJson,
  textMutatedSeed,
} from './fixtures/fuzz-requests';
import { describeSettings, fuzzSettings } from './fixtures/fuzz-settings';
import { runProperty } from './fixtures/run-property';

/** Cases of the main properties under npm test: 5 s on an idle 2-core machine, 30 s on a busy one. */
const settings = fuzzSettings(2_000);
t.setTimeout(Math.max(60_000, settings.runs * 200));

const seeds = loadSeeds();
t.comment(describeSettings(settings, 'engine fuzz'));
t.comment(seeds.source);

let engine: FuzzEngine;
t.before(async () => {
  engine = await startFuzzEngine();
});

/** A case: the bytes the engine reads and whether they are marked gzip. */
interface ByteCase {
  bytes: Buffer;
  gzip: boolean;
}

/** The text a body decodes to (what a 200 must answer), or null when it is not UTF-8 text. */
function decodedText(c: ByteCase, maxBodyBytes: number): string | null {
  let bytes = c.bytes;
  if (c.gzip) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: maxBodyBytes });
    } catch {
      return null;
    }
  }
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}

type Tally = Record<string, number>;

/** Runs `arb` through `answer` for `runs` cases, each held to the answer rule; returns the count of each status. */
async function fuzz<T>(
  t: TapTest,
  arb: fc.Arbitrary<T>,
  runs: number,
  answer: (c: T) => Promise<{ requestText: string | null; answer: EngineAnswer }>,
): Promise<Tally> {
  const tally = await runProperty(t, settings, arb, runs, async (c) => {
    const r = await answer(c);
    return { statuses: [r.answer.status], checks: [{ requestText: r.requestText, problems: answerProblems(r.requestText, r.answer.status, r.answer.body) }] };
  });
  return tally.status;
}

const asText = (text: string): Promise<{ requestText: string; answer: EngineAnswer }> =>
  engine.answerText(text).then((answer) => ({ requestText: text, answer }));

t.test('every seed request as it is gets a lawful answer', async (t) => {
  const tally: Tally = {};
  for (const text of seeds.texts) {
    const a = await engine.answerText(text);
    tally[a.status] = (tally[a.status] ?? 0) + 1;
    const problems = answerProblems(text, a.status, a.body);
    if (problems.length > 0 && knownDefect(text, problems) === undefined) t.fail(`${text.slice(0, 120)}: ${problems.join('; ')}`);
  }
  t.ok((tally[200] ?? 0) > 0, `some seeds bid: ${JSON.stringify(tally)}`);
});

t.test('without the shared corpus the seeds are the project fixtures, and it says so', async (t) => {
  const fallback = loadSeeds([]);
  t.match(fallback.source, /^shared corpus absent at .*: falling back to \d+ requests from .*test\/fixtures$/);
  t.ok(fallback.texts.length > 20, `${fallback.texts.length} fixture requests`);
});

t.test('corpus requests with hostile values in any field', async (t) => {
  const tally = await fuzz(t, mutatedSeed(seeds), settings.runs, asText);
  // A fuzzer that never reaches a bid tests nothing past validation.
  t.ok((tally[200] ?? 0) > 0, 'some mutated requests still bid');
  t.ok((tally[400] ?? 0) > 0, 'some mutated requests are refused');
});

t.test('corpus requests with text edits (truncation, stray brackets, escapes)', async (t) => {
  await fuzz(t, textMutatedSeed(seeds), Math.ceil(settings.runs / 2), asText);
});

t.test('random JSON documents', async (t) => {
  await fuzz(t, randomJson, Math.ceil(settings.runs / 2), asText);
});

t.test('OpenRTB-shaped requests with wrong types, extremes and unicode', async (t) => {
  const tally = await fuzz(t, openRtbRequest, settings.runs, asText);
  t.ok((tally[200] ?? 0) > 0, 'some generated requests bid');
  t.ok((tally[204] ?? 0) > 0, 'some generated requests get a no-bid');
});

t.test('nesting bombs at the root, in ext and in an imp', async (t) => {
  await fuzz(t, deepRequest, Math.ceil(settings.runs / 20), asText);
});

/** Bytes that are not clean UTF-8 JSON, or are gzip, good or broken. */
const BAD_UTF8: Buffer[] = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]].map((b) => Buffer.from(b));

/** Gzip of `mb` MiB of spaces, built once per size (compressing 4 MiB takes a while). */
const bombs = new Map<number, Buffer>();
function gzipBomb(mb: number): Buffer {
  let b = bombs.get(mb);
  if (b === undefined) bombs.set(mb, (b = gzipSync(Buffer.alloc(mb * 1024 * 1024, 0x20))));
  return b;
}

function byteCases(): fc.Arbitrary<ByteCase> {
  const text = fc.oneof(mutatedSeed(seeds), openRtbRequest);
  return fc.oneof(
    // Valid gzip of a request, possibly with a second gzip member after it (RFC 1952 2.2).
    fc.tuple(text, fc.boolean()).map(([s, twice]) => {
      const g = gzipSync(s);
      return { bytes: twice ? Buffer.concat([g, gzipSync(' ')]) : g, gzip: true};
    }),
    // Gzip cut short, or with a flipped byte: a BAD_GZIP, never a crash.
    fc.tuple(text, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean()).map(([s, at, x, cut]) => {
      const g = Buffer.from(gzipSync(s));
      const i = at % g.length;
      if (cut) return { bytes: g.subarray(0, i), gzip: true };
      g[i] ^= x;
      return { bytes: g, gzip: true };
    }),
    // A body gzip inflates past maxBodyBytes: a 413, never an allocation of the whole thing.
    fc.integer({ min: 1, max: 4 }).map((mb) => ({ bytes: gzipBomb(mb), gzip: true })),
    // Invalid UTF-8 somewhere in the body.
    fc.tuple(text, fc.nat(), fc.constantFrom(...BAD_UTF8)).map(([s, at, bad]) => {
      const b = Buffer.from(s);
      const i = at % (b.length + 1);
      return { bytes: Buffer.concat([b.subarray(0, i), bad, b.subarray(i)]), gzip: false };
    }),
    // A byte-order mark before the JSON (RFC 8259 8.1: must not be added).
    text.map((s) => ({ bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s)]), gzip: false })),
    // Plain bytes marked gzip.
    text.map((s) => ({ bytes: Buffer.from(s), gzip: true })),
  );
}

t.test('bodies as bytes: gzip (good, broken, bombs), bad UTF-8, a BOM', async (t) => {
  await fuzz(t, byteCases(), Math.ceil(settings.runs / 4), async (c) => ({
    requestText: decodedText(c, engine.maxBodyBytes),
    answer: await engine.answerBytes(c.bytes, c.gzip),
  }));
});
