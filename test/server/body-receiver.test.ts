/**
 * The body receiver without a server: memory is reserved as bytes arrive, bounded per
 * body and in total, slow bodies are refused by deadline or evicted by rate, and every
 * body's receive memory is released exactly once.
 */
import t from 'tap';
import fc from 'fast-check';
import { ReceiveSlab } from '../../src/pool/receive-slab';
import {
  BodyReceiver,
  kMinBodyBufferBytes,
  ReceiveMemory,
  ReceivingBody,
  type BodyRefusal,
  type ReceiveLimits,
} from '../../src/server/body-receiver';

const KiB = 1024;

class Body extends ReceivingBody {
  events: string[] = [];
  offset = -1;
  length = -1;
  constructor(readonly name: string, arrivedAt: number, declared: number) {
    super(arrivedAt, declared);
  }
}

function setup(limits: Partial<ReceiveLimits> = {}, slabSegments = 4) {
  let clock = 1000;
  const slab = new ReceiveSlab(256 * KiB, slabSegments);
  const memory = new ReceiveMemory();
  const refusals: [string, BodyRefusal][] = [];
  const rx = new BodyReceiver<Body>(
    slab,
    { maxBodyBytes: 64 * KiB, maxReceivingBytes: 64 * KiB, bodyTimeoutMs: 50, ...limits },
    memory,
    {
      complete(b, offset, length) {
        b.events.push('complete');
        b.offset = offset;
        b.length = length;
      },
      overloaded(b) {
        b.events.push('overloaded');
      },
      refused(b, code) {
        b.events.push(code);
        refusals.push([b.name, code]);
      },
    },
    { sweepIntervalMs: 0, now: () => clock },
  );
  const begin = (name: string, declared: number): Body => {
    const b = new Body(name, clock, declared);
    rx.begin(b);
    return b;
  };
  const advance = (ms: number): void => {
    clock += ms;
  };
  return { slab, memory, rx, refusals, begin, advance, now: () => clock };
}

const bytes = (n: number, fill: number): ArrayBuffer => new Uint8Array(n).fill(fill).buffer;

t.test('a body whole in its first chunk goes straight into the slab and holds no receive memory', async (t) => {
  const { slab, memory, rx, begin } = setup();
  const b = begin('one', 3);
  rx.data(b, new Uint8Array([1, 2, 3]).buffer, true);
  t.same(b.events, ['complete']);
  t.equal(b.length, 3);
  t.same([...slab.bytes.subarray(b.offset, b.offset + 3)], [1, 2, 3]);
  t.equal(memory.bytes, 0, 'never charged to the receiving budget');
  t.equal(rx.receivingCount(), 0);
  t.equal(slab.inUse(), 1, 'the slab region is the caller’s now');
});

t.test('a declared length reserves nothing: memory grows with the bytes that arrive', async (t) => {
  const { slab, memory, rx, begin } = setup();
  const b = begin('trickle', 64 * KiB);
  t.equal(memory.bytes, 0, 'headers alone hold nothing');
  rx.data(b, bytes(1, 7), false);
  t.equal(memory.bytes, kMinBodyBufferBytes, 'one byte holds the first small buffer, not the declared 64 KiB');
  t.equal(slab.inUse(), 0, 'an incomplete body holds no slab segment');
  rx.data(b, bytes(kMinBodyBufferBytes, 8), false);
  t.equal(memory.bytes, 2 * kMinBodyBufferBytes, 'grows geometrically');
  rx.data(b, bytes(1, 8), false);
  t.equal(memory.bytes, 2 * kMinBodyBufferBytes, 'no regrowth while it fits');
  rx.data(b, bytes(20 * KiB, 9), false);
  t.ok(memory.bytes >= b.received && memory.bytes <= 64 * KiB, `capacity ${memory.bytes} covers ${b.received}, within the declared length`);
  const rest = 64 * KiB - b.received;
  rx.data(b, bytes(rest, 10), true);
  t.same(b.events, ['complete']);
  t.equal(b.length, 64 * KiB);
  t.equal(memory.bytes, 0, 'released on completion');
  const body = slab.bytes.subarray(b.offset, b.offset + b.length);
  t.equal(body[0], 7);
  t.equal(body[1], 8);
  t.equal(body[2 + kMinBodyBufferBytes], 9);
  t.equal(body[64 * KiB - 1], 10, 'every chunk copied in order');
});

t.test('capacity never passes the declared length', async (t) => {
  const { memory, rx, begin } = setup();
  const b = begin('small', 600);
  rx.data(b, bytes(10, 1), false);
  t.equal(memory.bytes, 600, 'a 600-byte body never holds a larger buffer');
});

t.test('more than the declared length is refused (BAD_JSON); a chunked body past maxBodyBytes is BODY_TOO_LARGE', async (t) => {
  const { memory, rx, begin } = setup();
  const d = begin('declared', 10);
  rx.data(d, bytes(6, 1), false);
  rx.data(d, bytes(6, 1), false);
  t.same(d.events, ['BAD_JSON']);
  const c = begin('chunked', -1);
  rx.data(c, bytes(40 * KiB, 1), false);
  rx.data(c, bytes(40 * KiB, 1), false);
  t.same(c.events, ['BODY_TOO_LARGE']);
  rx.data(c, bytes(1, 1), true);
  t.same(c.events, ['BODY_TOO_LARGE'], 'later chunks of a refused body are dropped');
  t.equal(memory.bytes, 0);
  t.equal(rx.receivingCount(), 0);
});

t.test('the sweep refuses bodies past their deadline, and only those', async (t) => {
  const { memory, rx, begin, advance, now } = setup();
  const old = begin('old', 10 * KiB);
  rx.data(old, bytes(100, 1), false);
  advance(30);
  const young = begin('young', -1);
  rx.data(young, bytes(100, 1), false);
  const silent = begin('silent', 10 * KiB); // sent headers, no body byte: still has a deadline
  advance(19);
  rx.sweep(now());
  t.same(old.events, [], '49 ms: not yet');
  advance(1);
  rx.sweep(now());
  t.same(old.events, ['BODY_TIMEOUT'], '50 ms after arrival: refused');
  t.same(young.events, []);
  t.equal(memory.bytes, kMinBodyBufferBytes, 'the refused body’s memory is released at once');
  advance(30);
  rx.sweep(now());
  t.same(young.events, ['BODY_TIMEOUT'], 'a chunked body has the same deadline');
  t.same(silent.events, ['BODY_TIMEOUT'], 'a body that never sent a byte too');
  t.equal(memory.bytes, 0);
  t.equal(rx.receivingCount(), 0);
});

t.test('a complete body is never refused for the memory incomplete ones hold: the slowest is evicted', async (t) => {
  // Fill the 64 KiB budget with tricklers, then an honest 32 KiB body arrives in two halves.
  const { memory, rx, begin, advance, refusals } = setup({ maxReceivingBytes: 64 * KiB });
  const count = (64 * KiB) / kMinBodyBufferBytes;
  for (let i = 0; i < count; i++) {
    const b = begin(`t${i}`, 64 * KiB);
    rx.data(b, bytes(1 + i, 1), false); // the later ones have sent more
  }
  t.equal(memory.bytes, 64 * KiB, 'budget full');
  advance(10);
  const honest = begin('honest', 32 * KiB);
  rx.data(honest, bytes(16 * KiB, 2), false);
  rx.data(honest, bytes(16 * KiB, 2), true);
  t.same(honest.events, ['complete'], 'the honest body completes');
  const evicted = (16 * KiB) / kMinBodyBufferBytes;
  t.same(
    refusals.map(([n]) => n),
    Array.from({ length: evicted }, (_, i) => `t${i}`),
    'the slowest tricklers (fewest bytes per ms) are evicted, just enough for 16 KiB; the last chunk needs none',
  );
  t.ok(refusals.every(([, c]) => c === 'BODY_EVICTED'));
  t.equal(memory.bytes, 64 * KiB - 16 * KiB, 'what is left is the surviving tricklers');
});

t.test('eviction goes by rate, not age: an old body making progress outlives a young stalled one', async (t) => {
  const { rx, begin, advance, refusals } = setup({ maxReceivingBytes: 64 * KiB });
  const steady = begin('steady', 64 * KiB);
  rx.data(steady, bytes(24 * KiB, 1), false); // old, 24 KiB in 20 ms
  advance(20);
  const stalled = begin('stalled', 64 * KiB);
  rx.data(stalled, bytes(1, 1), false); // young, 1 byte
  advance(2);
  const burst = begin('burst', 64 * KiB);
  rx.data(burst, bytes(40 * KiB, 1), false); // 24 + 1 + 40 KiB > 64 KiB: someone goes
  t.same(refusals, [['stalled', 'BODY_EVICTED']], 'the stalled body goes; the older one making progress stays');
  t.same(steady.events, []);
  t.same(burst.events, [], 'the body whose chunk needed room is not its own victim');
});

t.test('bodies that hold no memory are not evicted (refusing them frees nothing)', async (t) => {
  const { rx, begin, refusals } = setup({ maxReceivingBytes: 64 * KiB });
  const idle = begin('idle', 64 * KiB); // headers only
  const a = begin('a', 64 * KiB);
  rx.data(a, bytes(40 * KiB, 1), false);
  const b = begin('b', 64 * KiB);
  rx.data(b, bytes(30 * KiB, 1), false);
  t.same(refusals, [['a', 'BODY_EVICTED']]);
  t.same(idle.events, []);
});

t.test('an aborted body releases its memory once; later chunks and sweeps do nothing', async (t) => {
  const { memory, rx, begin, advance, now } = setup();
  const b = begin('gone', 64 * KiB);
  rx.data(b, bytes(10 * KiB, 1), false);
  t.ok(memory.bytes > 0);
  rx.abort(b);
  t.equal(memory.bytes, 0);
  rx.abort(b);
  t.equal(memory.bytes, 0, 'a second abort does not release twice');
  rx.data(b, bytes(10, 1), true);
  advance(100);
  rx.sweep(now());
  t.same(b.events, [], 'no answer to a client that went away');
  t.equal(rx.receivingCount(), 0);

  const done = begin('done', 2);
  rx.data(done, bytes(2, 1), true);
  rx.abort(done); // a client that leaves after its body was handed on
  t.same(done.events, ['complete']);
  t.equal(memory.bytes, 0);
});

t.test('a full slab at completion is true overload; the receive memory is still released', async (t) => {
  const { slab, memory, rx, begin } = setup({}, 2);
  t.not(slab.alloc(256 * KiB), -1);
  t.not(slab.alloc(256 * KiB), -1);
  const whole = begin('whole', 10);
  rx.data(whole, bytes(10, 1), true);
  t.same(whole.events, ['overloaded']);
  const pieces = begin('pieces', 10);
  rx.data(pieces, bytes(5, 1), false);
  rx.data(pieces, bytes(5, 1), true);
  t.same(pieces.events, ['overloaded']);
  t.equal(memory.bytes, 0);
  t.equal(rx.receivingCount(), 0);
});

t.test('an empty body (content-length 0) completes', async (t) => {
  const { rx, begin } = setup();
  const b = begin('empty', 0);
  rx.data(b, new ArrayBuffer(0), true);
  t.same(b.events, ['complete']);
  t.equal(b.length, 0);
});

t.test('maxReceivingBytes below maxBodyBytes is refused at construction', async (t) => {
  t.throws(() => setup({ maxBodyBytes: 64 * KiB, maxReceivingBytes: 32 * KiB }), RangeError);
});

t.test('property: the budget holds, each body gets at most one answer, and memory returns to zero', async (t) => {
  type Op =
    | { kind: 'begin'; declared: number }
    | { kind: 'data'; which: number; n: number; last: boolean }
    | { kind: 'abort'; which: number }
    | { kind: 'tick'; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('begin' as const), declared: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 64 * KiB })) }),
    fc.record({ kind: fc.constant('data' as const), which: fc.nat(40), n: fc.integer({ min: 0, max: 20 * KiB }), last: fc.nat(7).map((x) => x === 0) }),
    fc.record({ kind: fc.constant('abort' as const), which: fc.nat(40) }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 50, maxLength: 200 }), (ops) => {
      const { memory, rx, begin, advance, now, slab } = setup({ maxReceivingBytes: 64 * KiB }, 8);
      const bodies: Body[] = [];
      for (const o of ops) {
        if (o.kind === 'begin') bodies.push(begin(`b${bodies.length}`, o.declared));
        else if (o.kind === 'tick') {
          advance(o.ms);
          rx.sweep(now());
        } else {
          const b = bodies[o.which % Math.max(1, bodies.length)];
          if (b === undefined) continue;
          if (o.kind === 'abort') rx.abort(b);
          else rx.data(b, bytes(o.n, 1), o.last);
        }
        let held = 0;
        for (const b of bodies) if (b.receiving) held += b.reserved;
        if (held !== memory.bytes) throw new Error(`gauge ${memory.bytes} != held ${held}`);
        if (memory.bytes > 64 * KiB) throw new Error(`budget passed: ${memory.bytes}`);
        for (const b of bodies) if (b.events.length > 1) throw new Error(`${b.name} answered twice: ${b.events}`);
      }
      for (const b of bodies) if (b.events[0] === 'complete') slab.free(b.offset);
      advance(1000);
      rx.sweep(now());
      if (memory.bytes !== 0 || rx.receivingCount() !== 0) throw new Error('memory left after every deadline passed');
      if (slab.inUse() !== 0) throw new Error('the receiver kept a slab region');
    }),
    { numRuns: 150 },
  );
  t.pass('held over 150 random sequences');
});
