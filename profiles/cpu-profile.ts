/**
 * V8 .cpuprofile files, as `node --cpu-prof` writes them (one per thread): their shape,
 * the self-time table of one thread, and a copy cut down to a time window. Pure: no I/O,
 * so it is tested on small hand-made profiles.
 *
 * Time is counted as Chrome DevTools counts it: sample i stands for the time from its own
 * timestamp to the next sample's (the last one to the profile's endTime). A function's
 * self time is the sum over the samples whose leaf is one of its nodes; a function is its
 * name, script URL and line, so two anonymous functions of one file stay apart. Native
 * code (no URL: postMessage, the garbage collector) also names the JavaScript function it
 * was called from most often, so "postMessage" says whose postMessage it is.
 */

export interface CallFrame {
  functionName: string;
  scriptId: string | number;
  url: string;
  /** 0-based, -1 when unknown. */
  lineNumber: number;
  columnNumber: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (CLOCK_MONOTONIC on Linux, as process.hrtime). */
  startTime: number;
  endTime: number;
  /** Node id of each sample's leaf frame. */
  samples: number[];
  /** Microseconds from the previous sample (the first: from startTime). */
  timeDeltas: number[];
}

/** A time range on the profile's clock, in microseconds; start included, end excluded. */
export interface WindowUs {
  startUs: number;
  endUs: number;
}

export interface Frame {
  functionName: string;
  url: string;
  /** 0-based, -1 when unknown. */
  lineNumber: number;
}

export interface SelfTimeRow extends Frame {
  selfUs: number;
  samples: number;
  /** Share of the thread's time in the window (idle included), 0-100. */
  pct: number;
  /** Share of the thread's busy (non-idle) time, 0-100. */
  busyPct: number;
  /** For native code: the nearest JavaScript caller most of its time came through, and that share (0-100). */
  via: (Frame & { pct: number }) | null;
}

export interface SelfTimeReport {
  /** Thread time covered by the counted samples, idle included. */
  totalUs: number;
  /** (idle), and whatever the caller counts as waiting (SelfTimeOptions.isIdle). */
  idleUs: number;
  gcUs: number;
  samples: number;
  /** Every function with self time except the idle ones, most first. */
  rows: SelfTimeRow[];
}

export interface SelfTimeOptions {
  /** Only the samples in this window (on the profile's clock); all without one. */
  window?: WindowUs;
  /** Frames whose self time is waiting rather than work (e.g. a function blocked in Atomics.wait). */
  isIdle?: (f: Frame) => boolean;
}

export const kIdle = '(idle)';
export const kGarbageCollector = '(garbage collector)';

/** Each sample's timestamp and the time it stands for. */
export function sampleTimes(p: CpuProfile): { at: number[]; span: number[] } {
  const n = p.samples.length;
  const at = new Array<number>(n);
  const span = new Array<number>(n);
  let t = p.startTime;
  for (let i = 0; i < n; i++) {
    t += p.timeDeltas[i] ?? 0;
    at[i] = t;
  }
  for (let i = 0; i < n; i++) {
    const next = i + 1 < n ? at[i + 1] : p.endTime;
    span[i] = Math.max(0, next - at[i]);
  }
  return { at, span };
}

function inWindow(t: number, w: WindowUs | undefined): boolean {
  return w === undefined || (t >= w.startUs && t < w.endUs);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function frameKey(f: Frame): string {
  return `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}`;
}

/** A frame with its own source: JavaScript that has a URL, as opposed to native code and V8's pseudo-frames. */
export function hasSource(f: Frame): boolean {
  return f.url !== '' && !f.url.startsWith('[');
}

/**
 * Sums self time per frame from (leaf, nearest caller with source, time) triples, and
 * turns the sums into rows. Shared by the .cpuprofile and the V8-log tables.
 */
export class SelfTimeAccumulator {
  private readonly entries = new Map<string, { frame: Frame; selfUs: number; samples: number; callers: Map<string, { frame: Frame; us: number }> }>();
  totalUs = 0;
  idleUs = 0;
  gcUs = 0;
  samples = 0;

  constructor(private readonly isIdle: (f: Frame) => boolean = () => false) {}

  /** One sample: its leaf, the leaf's nearest caller with source, its time, and whether the VM was collecting garbage. */
  add(leaf: Frame, caller: Frame | null, us: number, inGc = false): void {
    this.samples++;
    this.totalUs += us;
    if (leaf.functionName === kIdle || this.isIdle(leaf)) {
      this.idleUs += us;
      return;
    }
    if (inGc || leaf.functionName === kGarbageCollector) this.gcUs += us;
    const key = frameKey(leaf);
    let e = this.entries.get(key);
    if (!e) {
      e = { frame: leaf, selfUs: 0, samples: 0, callers: new Map() };
      this.entries.set(key, e);
    }
    e.selfUs += us;
    e.samples++;
    if (caller && !hasSource(leaf)) {
      const ck = frameKey(caller);
      const c = e.callers.get(ck);
      if (c) c.us += us;
      else e.callers.set(ck, { frame: caller, us });
    }
  }

  report(): SelfTimeReport {
    const { totalUs, idleUs } = this;
    const busyUs = totalUs - idleUs;
    const rows: SelfTimeRow[] = [...this.entries.values()].map((e) => {
      let best: { frame: Frame; us: number } | null = null;
      for (const c of e.callers.values()) if (!best || c.us > best.us) best = c;
      const via = best ? { ...best.frame, pct: e.selfUs > 0 ? round2((best.us * 100) / e.selfUs) : 0 } : null;
      return {
        functionName: e.frame.functionName,
        url: e.frame.url,
        lineNumber: e.frame.lineNumber,
        selfUs: e.selfUs,
        samples: e.samples,
        pct: totalUs > 0 ? round2((e.selfUs * 100) / totalUs) : 0,
        busyPct: busyUs > 0 ? round2((e.selfUs * 100) / busyUs) : 0,
        via,
      };
    });
    rows.sort(
      (a, b) => b.selfUs - a.selfUs || b.samples - a.samples || a.functionName.localeCompare(b.functionName) || a.url.localeCompare(b.url) || a.lineNumber - b.lineNumber,
    );
    return { totalUs, idleUs, gcUs: this.gcUs, samples: this.samples, rows };
  }
}

/** Self time per function over a .cpuprofile's samples. */
export function selfTime(p: CpuProfile, options: SelfTimeOptions = {}): SelfTimeReport {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of p.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  // Nearest ancestor with source, per node, computed once.
  const callerOf = new Map<number, Frame | null>();
  const nearestCaller = (id: number): Frame | null => {
    if (callerOf.has(id)) return callerOf.get(id)!;
    let at = parent.get(id);
    while (at !== undefined && !hasSource(byId.get(at)!.callFrame)) at = parent.get(at);
    const f = at === undefined ? null : toFrame(byId.get(at)!.callFrame);
    callerOf.set(id, f);
    return f;
  };
  const { at, span } = sampleTimes(p);
  const acc = new SelfTimeAccumulator(options.isIdle);
  for (let i = 0; i < p.samples.length; i++) {
    if (!inWindow(at[i], options.window)) continue;
    const node = byId.get(p.samples[i]);
    if (!node) throw new Error(`sample ${i} names node ${p.samples[i]}, which the profile lacks`);
    const leaf = toFrame(node.callFrame);
    acc.add(leaf, hasSource(leaf) ? null : nearestCaller(node.id), span[i]);
  }
  return acc.report();
}

function toFrame(f: CallFrame): Frame {
  return { functionName: f.functionName, url: f.url, lineNumber: f.lineNumber };
}

/** The root: the one node no other node names as a child. */
function rootId(p: CpuProfile): number {
  const children = new Set<number>();
  for (const node of p.nodes) for (const c of node.children ?? []) children.add(c);
  const roots = p.nodes.filter((node) => !children.has(node.id));
  if (roots.length !== 1) throw new Error(`a profile has one root node, this one has ${roots.length}`);
  return roots[0].id;
}

/**
 * The profile cut down to the samples in the window: hit counts recounted (flame-graph
 * tools read them rather than the samples), nodes that no kept sample reaches dropped,
 * and per-line ticks dropped (they counted the whole run).
 */
export function trimProfile(p: CpuProfile, w: WindowUs): CpuProfile {
  const { at } = sampleTimes(p);
  const hits = new Map<number, number>();
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  const startTime = Math.max(p.startTime, w.startUs);
  const endTime = Math.max(startTime, Math.min(p.endTime, w.endUs));
  let prev = startTime;
  for (let i = 0; i < p.samples.length; i++) {
    if (!inWindow(at[i], w)) continue;
    const id = p.samples[i];
    samples.push(id);
    timeDeltas.push(at[i] - prev);
    prev = at[i];
    hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  const byId = new Map<number, ProfileNode>();
  for (const node of p.nodes) byId.set(node.id, node);
  const keep = new Set<number>();
  const root = rootId(p);
  // Iterative post-order walk: deep stacks would overflow a recursive one.
  const stack: { id: number; visited: boolean }[] = [{ id: root, visited: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    const node = byId.get(top.id);
    if (!node) throw new Error(`node ${top.id} is named as a child but missing`);
    if (!top.visited) {
      stack.push({ id: top.id, visited: true });
      for (const c of node.children ?? []) stack.push({ id: c, visited: false });
    } else if ((hits.get(top.id) ?? 0) > 0 || (node.children ?? []).some((c) => keep.has(c))) {
      keep.add(top.id);
    }
  }
  keep.add(root);
  const nodes = p.nodes
    .filter((node) => keep.has(node.id))
    .map((node) => ({
      id: node.id,
      callFrame: node.callFrame,
      hitCount: hits.get(node.id) ?? 0,
      children: (node.children ?? []).filter((c) => keep.has(c)),
    }));
  return { nodes, startTime, endTime, samples, timeDeltas };
}

/** Where a frame's code lives, shortened: repository-relative path and 1-based line. */
export function frameLocation(url: string, lineNumber: number, repoRoot: string): string {
  if (url === '') return '';
  let path = url.startsWith('file://') ? url.slice('file://'.length) : url;
  if (path.startsWith(`${repoRoot}/`)) path = path.slice(repoRoot.length + 1);
  return lineNumber >= 0 ? `${path}:${lineNumber + 1}` : path;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** Where a row's code lives, and for native code the caller most of it came through. */
export function rowLocation(r: SelfTimeRow, repoRoot: string): string {
  const here = frameLocation(r.url, r.lineNumber, repoRoot);
  if (!r.via) return here;
  const via = `via ${r.via.functionName || '(anonymous)'} ${frameLocation(r.via.url, r.via.lineNumber, repoRoot)}${r.via.pct < 99.5 ? ` (${r.via.pct.toFixed(0)}%)` : ''}`;
  return here ? `${here} ${via}` : via;
}

/** A plain-text table of the top rows: self ms, % of thread time, % of busy time, function, location. */
export function formatSelfTimeTable(report: SelfTimeReport, top: number, repoRoot: string): string {
  const rows = report.rows.slice(0, top);
  const names = rows.map((r) => r.functionName || '(anonymous)');
  const nameWidth = Math.max(8, ...names.map((n) => n.length));
  const lines = [`${pad('self ms', 9, true)} ${pad('thread%', 7, true)} ${pad('busy%', 6, true)}  ${pad('function', nameWidth)}  location`];
  rows.forEach((r, i) => {
    lines.push(
      `${pad((r.selfUs / 1000).toFixed(1), 9, true)} ${pad(r.pct.toFixed(1), 7, true)} ${pad(r.busyPct.toFixed(1), 6, true)}  ${pad(names[i], nameWidth)}  ${rowLocation(r, repoRoot)}`.trimEnd(),
    );
  });
  return lines.join('\n');
}

/** One line on the thread as a whole: time covered, busy share, idle (and waiting) and GC shares. */
export function formatThreadHeadline(report: SelfTimeReport): string {
  const pct = (us: number): string => (report.totalUs > 0 ? ((us * 100) / report.totalUs).toFixed(1) : '0.0');
  return `${(report.totalUs / 1e6).toFixed(2)} s sampled (${report.samples} samples): busy ${pct(report.totalUs - report.idleUs)}%, idle ${pct(report.idleUs)}%, GC ${pct(report.gcUs)}%`;
}
