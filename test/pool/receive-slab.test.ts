import t from 'tap';
import { ReceiveSlab } from '../../src/pool/receive-slab';

const SEG = 1024;

t.test('allocations bump inside the first segment', async (t) => {
  const slab = new ReceiveSlab(SEG, 4);
  t.equal(slab.buffer.byteLength, SEG * 4);
  t.equal(slab.bytes.byteLength, SEG * 4);
  t.equal(slab.inUse(), 0);
  t.equal(slab.alloc(100), 0);
  t.equal(slab.alloc(200), 100);
  t.equal(slab.alloc(24), 300);
  t.equal(slab.inUse(), 1);
});

t.test('a segment is reused from its start once all its regions are freed', async (t) => {
  const slab = new ReceiveSlab(SEG, 4);
  const a = slab.alloc(100);
  const b = slab.alloc(100);
  slab.free(a);
  t.equal(slab.inUse(), 1, 'one live region keeps the segment in use');
  t.equal(slab.alloc(50), 200, 'still bumping while a region is live');
  slab.free(b);
  slab.free(200);
  t.equal(slab.inUse(), 0);
  t.equal(slab.alloc(10), 0, 'empty segment restarts at its beginning');
});

t.test('moves to the next empty segment when the current one is full', async (t) => {
  const slab = new ReceiveSlab(SEG, 3);
  t.equal(slab.alloc(1000), 0);
  t.equal(slab.alloc(100), SEG, 'does not fit the rest of segment 0');
  t.equal(slab.inUse(), 2);
  t.equal(slab.alloc(924), SEG + 100, 'exact fit to the end of segment 1');
  t.equal(slab.alloc(1), 2 * SEG);
  t.equal(slab.inUse(), 3);
});

t.test('skips segments that still hold live regions and wraps around', async (t) => {
  const slab = new ReceiveSlab(SEG, 3);
  const s0 = slab.alloc(SEG);
  const s1 = slab.alloc(SEG);
  const s2 = slab.alloc(SEG);
  t.same([s0, s1, s2], [0, SEG, 2 * SEG]);
  t.equal(slab.alloc(1), -1, 'full');
  slab.free(s1);
  t.equal(slab.alloc(10), SEG, 'the freed middle segment is found');
  t.equal(slab.alloc(SEG), -1, 'segment 1 has 10 bytes used; nothing else empty');
  slab.free(s0);
  t.equal(slab.alloc(SEG), 0, 'wraps to segment 0');
});

t.test('returns -1 when full and recovers after free', async (t) => {
  const slab = new ReceiveSlab(SEG, 2);
  t.equal(slab.alloc(600), 0);
  t.equal(slab.alloc(600), SEG);
  t.equal(slab.alloc(600), -1);
  t.equal(slab.inUse(), 2);
  slab.free(0);
  t.equal(slab.inUse(), 1);
  t.equal(slab.alloc(600), 0);
});

t.test('an alloc larger than a segment is -1 and changes nothing', async (t) => {
  const slab = new ReceiveSlab(SEG, 4);
  t.equal(slab.alloc(SEG + 1), -1);
  t.equal(slab.inUse(), 0);
  t.equal(slab.alloc(SEG), 0, 'exactly one segment fits');
  t.equal(slab.alloc(SEG * 4), -1);
});

t.test('a zero-length region at the end of a full segment is counted in the segment it is freed from', async (t) => {
  // Content-Length: 0 reaches alloc(0). When the cursor sits at the very end of the current
  // segment, the offset returned is the first byte of the NEXT segment, but the live count
  // goes to the current one; free() then decrements the next segment's count.
  const slab = new ReceiveSlab(SEG, 2);
  const full = slab.alloc(SEG);
  const empty = slab.alloc(0);
  t.not(empty, -1);
  slab.free(empty);
  slab.free(full);
  t.equal(slab.inUse(), 0, 'everything freed: no segment in use');
  // Both segments are whole again, whichever the allocator visits first.
  const a = slab.alloc(SEG);
  const b = slab.alloc(SEG);
  t.same([a, b].sort((x, y) => x - y), [0, SEG], 'segments 0 and 1 are usable again');
});

t.test('randomized: live regions never overlap and inUse matches a shadow model', async (t) => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const segments = 8;
  const slab = new ReceiveSlab(SEG, segments);
  const live = new Map<number, number>(); // offset -> length
  let failures = 0;
  let allocs = 0;
  let refused = 0;
  for (let step = 0; step < 20_000 && failures < 5; step++) {
    if (live.size > 0 && rand(100) < 45) {
      const keys = [...live.keys()];
      const off = keys[rand(keys.length)];
      live.delete(off);
      slab.free(off);
    } else {
      const len = 1 + rand(rand(10) === 0 ? SEG : 300);
      const off = slab.alloc(len);
      if (off < 0) {
        refused++;
        // -1 only when no empty segment exists (the current may not fit it)
        const used = new Set([...live.keys()].map((o) => Math.floor(o / SEG)));
        if (used.size < segments) {
          failures++;
          t.fail(`alloc(${len}) refused with ${segments - used.size} empty segments`);
        }
      } else {
        allocs++;
        const seg = Math.floor(off / SEG);
        if (Math.floor((off + len - 1) / SEG) !== seg) {
          failures++;
          t.fail(`region ${off}+${len} crosses a segment boundary`);
        }
        for (const [o, l] of live) {
          if (off < o + l && o < off + len) {
            failures++;
            t.fail(`region ${off}+${len} overlaps live ${o}+${l}`);
            break;
          }
        }
        live.set(off, len);
      }
    }
    const expectedInUse = new Set([...live.keys()].map((o) => Math.floor(o / SEG))).size;
    if (slab.inUse() !== expectedInUse) {
      failures++;
      t.fail(`step ${step}: inUse ${slab.inUse()} != ${expectedInUse}`);
    }
  }
  t.equal(failures, 0);
  t.ok(allocs > 5000, `exercised allocs (${allocs})`);
  t.ok(refused > 0, `exercised the full slab (${refused})`);
  for (const off of live.keys()) slab.free(off);
  t.equal(slab.inUse(), 0);
});
