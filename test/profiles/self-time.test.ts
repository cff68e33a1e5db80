import t from 'tap';
import { formatSelfTimeTable, frameLocation, selfTime, trimProfile, type CpuProfile } from '../../profiles/cpu-profile';
import { ticksSelfTime, type PreprocessedTicks } from '../../profiles/v8-ticks';

const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, scriptId: 0, url, lineNumber, columnNumber: 0 });

/**
 * (root) 1
 *   ├─ main app.js:0 2
 *   │    ├─ parse app.js:10 3
 *   │    ├─ postMessage (native) 4
 *   │    └─ (anonymous) app.js:20 5
 *   │         └─ parse app.js:10 6      (same function as node 3, other call path)
 *   ├─ (anonymous) app.js:30 7          (same name as node 5, other function)
 *   ├─ (garbage collector) 8
 *   └─ (idle) 9
 *
 * Samples at 1000, 1010, ... (startTime 990, first delta 10); each stands for the time to
 * the next sample, the last one to endTime.
 */
function profile(): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 7, 8, 9] },
      { id: 2, callFrame: frame('main', 'file:///repo/app.js', 0), children: [3, 4, 5] },
      { id: 3, callFrame: frame('parse', 'file:///repo/app.js', 10) },
      { id: 4, callFrame: frame('postMessage') },
      { id: 5, callFrame: frame('', 'file:///repo/app.js', 20), children: [6] },
      { id: 6, callFrame: frame('parse', 'file:///repo/app.js', 10) },
      { id: 7, callFrame: frame('', 'file:///repo/app.js', 30) },
      { id: 8, callFrame: frame('(garbage collector)') },
      { id: 9, callFrame: frame('(idle)') },
    ],
    startTime: 990,
    //        t=1000 1010 1020 1030 1040 1050 1060 1070 1080 1090
    samples: [3, 3, 6, 4, 4, 5, 7, 8, 9, 9],
    timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
    endTime: 1130, // the last sample (t=1090) stands for 40 µs
  };
}

t.test('self time: totals, one function across call paths, DevTools spans', async (t) => {
  const r = selfTime(profile());
  t.equal(r.samples, 10);
  t.equal(r.totalUs, 130, 'from the first sample to endTime');
  t.equal(r.idleUs, 50, '(idle): 10 + 40 (the last sample runs to endTime)');
  t.equal(r.gcUs, 10);
  const parse = r.rows.find((x) => x.functionName === 'parse')!;
  t.equal(parse.selfUs, 30, 'nodes 3 and 6 are one function');
  t.equal(parse.samples, 3);
  t.equal(r.rows.filter((x) => x.functionName === '').length, 2, 'two anonymous functions of one file stay apart');
  t.notOk(r.rows.some((x) => x.functionName === '(idle)'), 'idle is not a row');
  t.equal(r.rows.reduce((n, x) => n + x.selfUs, 0) + r.idleUs, r.totalUs, 'rows and idle add up to the total');
});

t.test('self time: order and percentages', async (t) => {
  const r = selfTime(profile());
  // Most time first; ties (time, then samples) go by name, URL and line.
  t.same(
    r.rows.map((x) => [x.functionName, x.lineNumber, x.selfUs]),
    [
      ['parse', 10, 30],
      ['postMessage', -1, 20],
      ['', 20, 10],
      ['', 30, 10],
      ['(garbage collector)', -1, 10],
    ],
  );
  const parse = r.rows[0];
  t.equal(parse.pct, 23.08, '30 of 130 µs');
  t.equal(parse.busyPct, 37.5, '30 of the 80 busy µs');
  t.equal(r.rows[1].pct, 15.38);
});

t.test('native code names its JavaScript caller', async (t) => {
  const r = selfTime(profile());
  const post = r.rows.find((x) => x.functionName === 'postMessage')!;
  t.same(post.via, { functionName: 'main', url: 'file:///repo/app.js', lineNumber: 0, pct: 100 });
  t.equal(r.rows.find((x) => x.functionName === 'parse')!.via, null, 'JavaScript needs no caller');
  const table = formatSelfTimeTable(r, 2, '/repo');
  t.match(table, /postMessage\s+via main app\.js:1/);
  t.match(table, /parse\s+app\.js:11/, '1-based lines, repository-relative paths');
  t.equal(table.split('\n').length, 3, 'header and the top 2');
});

t.test('a window keeps only its samples; waiting frames count as idle', async (t) => {
  const r = selfTime(profile(), { window: { startUs: 1020, endUs: 1060 }, isIdle: (f) => f.functionName === 'postMessage' });
  t.equal(r.samples, 4, 'samples at 1020, 1030, 1040, 1050');
  t.equal(r.totalUs, 40);
  t.equal(r.idleUs, 20, 'postMessage counted as waiting');
  t.same(
    r.rows.map((x) => [x.functionName, x.selfUs, x.pct, x.busyPct]),
    [
      ['', 10, 25, 50],
      ['parse', 10, 25, 50],
    ],
  );
});

t.test('trimProfile recounts hits and drops unreached nodes', async (t) => {
  const w = { startUs: 1020, endUs: 1060 };
  const p = trimProfile(profile(), w);
  t.same(p.samples, [6, 4, 4, 5]);
  t.equal(p.startTime, 1020);
  t.equal(p.endTime, 1060);
  t.same(p.timeDeltas, [0, 10, 10, 10]);
  t.same(p.nodes.map((n) => n.id), [1, 2, 4, 5, 6], 'root kept; 3, 7, 8, 9 have no sample in the window');
  t.same(p.nodes.map((n) => n.hitCount), [0, 0, 2, 1, 1]);
  t.same(p.nodes[0].children, [2]);
  const r = selfTime(p);
  t.equal(r.totalUs, 40, 'the trimmed profile reads the same as the window');
  t.equal(r.rows.find((x) => x.functionName === 'postMessage')!.selfUs, 20);
});

t.test('frameLocation', async (t) => {
  t.equal(frameLocation('file:///repo/dist/a.js', 4, '/repo'), 'dist/a.js:5');
  t.equal(frameLocation('node:internal/x', 0, '/repo'), 'node:internal/x:1');
  t.equal(frameLocation('', -1, '/repo'), '');
  t.equal(frameLocation('[C++]', -1, '/repo'), '[C++]');
});

t.test('V8 --prof ticks: a library without a symbol is named by offset', async (t) => {
  const log: PreprocessedTicks = {
    code: [{ name: '/usr/lib/x86_64-linux-gnu/libc.so.6', type: 'SHARED_LIB' }, { name: 'postTask /repo/pool.js:116:13', type: 'JS' }],
    ticks: [
      { tm: 0, vm: 0, s: [0, 0x86193, 1, 4] },
      { tm: 10, vm: 0, s: [0, 0x86193, 1, 4] },
      { tm: 20, vm: 0, s: [0, 0x8612b] },
    ],
  };
  const r = ticksSelfTime(log);
  t.same(
    r.rows.map((x) => [x.functionName, x.url, x.selfUs, x.via?.functionName ?? null]),
    [
      ['libc.so.6+0x86193', '[no symbol]', 20, 'postTask'],
      ['libc.so.6+0x8612b', '[no symbol]', 10, null],
    ],
  );
});

t.test('V8 --prof ticks: innermost known code, its JavaScript caller, idle only in epoll', async (t) => {
  const log: PreprocessedTicks = {
    code: [
      { name: '__send@@GLIBC_2.2.5', type: 'CPP' },
      { name: '*onReply /repo/dist/dispatcher.js:153:12', type: 'JS', kind: 'Opt' },
      { name: 'epoll_pwait@@GLIBC_2.6', type: 'CPP' },
      { name: '__recv@@GLIBC_PRIVATE', type: 'CPP' },
      { name: 'JsonParse', type: 'CODE', kind: 'Builtin' },
    ],
    ticks: [
      { tm: 100, vm: 0, s: [0, 5, -1, 0, 1, 7] }, // send, from onReply (an unknown frame between)
      { tm: 110, vm: 0, s: [0, 5, 1, 7] },
      { tm: 120, vm: 0, s: [1, 3] }, // onReply itself
      { tm: 130, vm: 8, s: [2, 1] }, // waiting in epoll: idle
      { tm: 140, vm: 8, s: [3, 1] }, // recv in the poll phase: V8 says idle, but it is work
      { tm: 160, vm: 1, s: [-1, 0] }, // GC in unknown code
      { tm: 165, vm: 0, s: [4, 0, 1, 2] }, // a builtin, called from onReply
    ],
  };
  const r = ticksSelfTime(log);
  t.equal(r.samples, 7);
  t.equal(r.totalUs, 70, 'each tick to the next; the last gets the interval before it');
  t.equal(r.idleUs, 10);
  t.equal(r.gcUs, 5);
  t.same(
    r.rows.map((x) => [x.functionName, x.url, x.selfUs]),
    [
      ['__send@@GLIBC_2.2.5', '[C++]', 20],
      ['__recv@@GLIBC_PRIVATE', '[C++]', 20],
      ['onReply', '/repo/dist/dispatcher.js', 10],
      ['(garbage collector)', '', 5],
      ['JsonParse', '[Builtin]', 5],
    ],
  );
  t.same(r.rows[0].via, { functionName: 'onReply', url: '/repo/dist/dispatcher.js', lineNumber: 152, pct: 100 });
  t.equal(r.rows[1].via, null, 'no JavaScript on the stack');
  t.same(r.rows[4].via, { functionName: 'onReply', url: '/repo/dist/dispatcher.js', lineNumber: 152, pct: 100 });
  t.equal(r.rows[0].pct, 28.57);
  t.equal(r.rows[0].busyPct, 33.33);
  const windowed = ticksSelfTime(log, { startUs: 110, endUs: 130 });
  t.same(
    windowed.rows.map((x) => [x.functionName, x.selfUs]),
    [
      ['__send@@GLIBC_2.2.5', 10],
      ['onReply', 10],
    ],
  );
});
