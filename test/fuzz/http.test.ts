/**
 * Property-based fuzzing over HTTP against a real test bidder (uWS front end, pool,
 * inline lane): the requests of the in-process fuzz suite, sent one to four at a time on
 * fresh connections, with Content-Length or chunked framing cut at random points, plain or
 * gzip (or mislabelled) bodies. No answer is a 5xx, every request is answered, and a
 * request with a tmax is answered before tmax plus a scheduling allowance.
 */
import t from 'tap';
import fc from 'fast-check';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { simpleBanner } from '../helpers/requests';
import { postBid, startTestBidder, type TapTest, type TestBidder } from '../helpers/test-bidder';
import { answerProblems } from './fixtures/answer-check';
import { loadSeeds, mutatedSeed, openRtbObject, randomJson, textMutatedSeed } from './fixtures/fuzz-requests';
import { toJsonText } from './fixtures/hostile-values';
import { describeSettings, fuzzSettings } from './fixtures/fuzz-settings';
import { runProperty } from './fixtures/run-property';
import { exchange, requestPieces, type Framing, type RawAnswer } from './fixtures/raw-http';

const settings = fuzzSettings(1_000);
/** Each HTTP case is up to four real requests: a quarter of the in-process case count. */
const runs = Math.max(20, Math.ceil(settings.runs / 4));
t.setTimeout(Math.max(60_000, runs * 500));
t.comment(describeSettings(settings, `http fuzz (${runs} cases)`));

/**
 * How late past tmax an answer may reach the client: 25 ms, plus the worst delay this
 * process's own event loop suffered during the case. The bidder aims to answer by tmax
 * minus bidding.tmaxMarginMs (10 ms) from the moment it has the body; what the client
 * sees adds the loopback hop, the worker-to-front-end message and one front-end and one
 * client event-loop turn (15 ms covers them with room). On a shared 2-core machine the
 * scheduler can also stall any thread for tens of milliseconds; the client's loop delay
 * (monitorEventLoopDelay, 1 ms resolution) measures that stall as it happened, and the
 * bidder's threads suffer it alike. An answer later than both is the bidder's lateness.
 */
const kTmaxAllowanceMs = 25;
/** Without tmax a request must still be answered: above the bidder's hard timeout (1 s). */
const kAnswerWithinMs = 3_000;

const seeds = loadSeeds();
t.comment(seeds.source);

let b: TestBidder;
t.before(async () => {
  b = await startTestBidder({ testHooks: false });
});
t.teardown(() => b?.close());

interface WireCase {
  text: string;
  /** Content-Encoding header, or null for none. */
  encoding: string | null;
  /** Whether the body is gzipped (it may be, or not, whatever the header says). */
  compress: boolean;
  framing: Framing;
  cuts: number[];
  gapMs: number;
}

/** OpenRTB-shaped requests that carry a tmax the bidder can meet, or cannot (1 ms). */
const withTmax = fc.tuple(openRtbObject, fc.integer({ min: 1, max: 300 })).map(([o, tmax]) => toJsonText({ ...o, tmax }));

const body = fc.oneof(
  { weight: 4, arbitrary: withTmax },
  { weight: 3, arbitrary: mutatedSeed(seeds) },
  { weight: 1, arbitrary: textMutatedSeed(seeds) },
  { weight: 1, arbitrary: randomJson },
);

const coding = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ encoding: null, compress: false }) },
  { weight: 4, arbitrary: fc.constantFrom({ encoding: 'gzip', compress: true }, { encoding: 'x-gzip', compress: true }, { encoding: 'GZIP', compress: true }) },
  { weight: 1, arbitrary: fc.constantFrom({ encoding: 'identity', compress: false }, { encoding: 'br', compress: false }, { encoding: 'gzip', compress: false }, { encoding: 'deflate', compress: true }) },
);

const wireCase: fc.Arbitrary<WireCase> = fc
  .record({
    text: body,
    coding,
    framing: fc.constantFrom<Framing>('length', 'length', 'chunked'),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
    gapMs: fc.constantFrom(0, 0, 0, 1, 3),
  })
  .map(({ coding: c, ...rest }) => ({ ...rest, ...c }));

/** The tmax the bidder will hold itself to, when the body is JSON with a positive numeric tmax. */
function tmaxOf(text: string): number | undefined {
  try {
    const tmax = (JSON.parse(text) as { tmax?: unknown }).tmax;
    return typeof tmax === 'number' && tmax > 0 ? tmax : undefined;
  } catch {
    return undefined;
  }
}

function send(c: WireCase): Promise<RawAnswer> {
  const bytes = c.compress ? gzipSync(c.text) : Buffer.from(c.text);
  const headers: Record<string, string> = c.encoding === null ? {} : { 'Content-Encoding': c.encoding };
  return exchange(b.port, requestPieces(bytes, headers, c.framing, c.cuts), c.gapMs, kAnswerWithinMs);
}

function checkAnswer(c: WireCase, a: RawAnswer, loopDelayMs: number): { requestText: string | null; problems: string[] } {
  // What the engine read: the text, when the coding header and the bytes agree.
  const gzipHeader = c.encoding !== null && /^(x-)?gzip$/i.test(c.encoding);
  const readable = c.encoding === null || c.encoding === 'identity' ? !c.compress : gzipHeader && c.compress;
  const requestText = readable ? c.text : null;
  if (a.status === 0) return { requestText, problems: [`no answer within ${kAnswerWithinMs} ms (or the connection closed)`] };
  const problems = answerProblems(requestText, a.status, a.body === '' ? null : a.body);
  const tmax = tmaxOf(c.text);
  const allowance = kTmaxAllowanceMs + loopDelayMs;
  if (tmax !== undefined && a.firstByteMs > tmax + allowance) {
    problems.push(`answered ${a.firstByteMs.toFixed(1)} ms after the body, tmax ${tmax} (allowance ${allowance.toFixed(1)} ms, of which client loop delay ${loopDelayMs.toFixed(1)})`);
  }
  return { requestText, problems };
}

t.test('hostile requests over HTTP, one to four at once, any framing and coding', async (t: TapTest) => {
  let latest = -Infinity;
  let worstLoopDelay = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const tally = await runProperty(t, settings, fc.array(wireCase, { minLength: 1, maxLength: 4 }), runs, async (cases) => {
    loop.reset();
    loop.enable();
    const answers = await Promise.all(cases.map(send));
    loop.disable();
    const loopDelayMs = loop.max / 1e6;
    worstLoopDelay = Math.max(worstLoopDelay, loopDelayMs);
    for (let i = 0; i < cases.length; i++) {
      const tmax = tmaxOf(cases[i].text);
      if (tmax !== undefined && answers[i].firstByteMs >= 0) latest = Math.max(latest, answers[i].firstByteMs - tmax);
    }
    return { statuses: answers.map((a) => a.status), checks: cases.map((c, i) => checkAnswer(c, answers[i], loopDelayMs)) };
  });
  t.comment(`latest answer relative to its tmax: ${latest.toFixed(1)} ms; worst client loop delay ${worstLoopDelay.toFixed(1)} ms`);
  t.ok((tally.status[200] ?? 0) > 0, 'some requests bid');
});

t.test('the bidder still bids after the fuzzing', async (t) => {
  const r = await postBid(b.port, simpleBanner('after-fuzz'));
  t.equal(r.status, 200, r.body.slice(0, 200));
});
