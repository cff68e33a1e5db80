/**
 * The self-time table of one thread from a V8 --prof log, as `node --prof-process
 * --preprocess` turns it into JSON (0x keeps that file: main/isolate-…-v8.log.json).
 * Pure: no I/O. Each tick lists the code its stack runs in, innermost first; a tick
 * counts for the innermost code the log knows, as 0x draws it, and stands for the time to
 * the next tick. Unlike a .cpuprofile, native code has names here (C++ and libc symbols;
 * a library and offset where the library exports no symbol), so the front end's system
 * calls show up, each with the JavaScript that made it. A tick taken while the thread was
 * in the kernel lands on the instruction after the `syscall`. Code the log never saw
 * loaded (native addons, dlopen'ed after start: uWebSockets.js, onnxruntime) is unknown.
 */
import { SelfTimeAccumulator, kGarbageCollector, kIdle, type Frame, type SelfTimeReport, type WindowUs } from './cpu-profile';

export interface PreprocessedCode {
  name: string;
  /** 'JS', 'CODE' (builtins, bytecode handlers, regular expressions), 'CPP', 'SHARED_LIB'. */
  type: string;
  kind?: string;
}

export interface PreprocessedTick {
  /** µs since the isolate's logger started. */
  tm: number;
  /** V8 state: 0 JS, 1 GC, 2 parser, 3 bytecode compiler, 4 compiler, 5 other, 6 external, 7 atomics wait, 8 idle. */
  vm: number;
  /** [code index, offset] pairs, innermost first; index -1 for code the log does not know. */
  s: number[];
}

export interface PreprocessedTicks {
  code: (PreprocessedCode | null)[];
  ticks: PreprocessedTick[];
}

const kVmGc = 1;
const kVmAtomicsWait = 7;
/**
 * Where an event loop waits for I/O: time there is idle time. Not V8's idle state (8):
 * node sets it for the whole poll phase, so uWS's recv() calls carry it too.
 */
const kIdleSymbol = /^(?:__)?epoll_p?wait\b|^epoll_p?wait@|^uv__io_poll\b/;

/**
 * A code entry as a table row names it: function, where it lives (URL, or a [kind] tag),
 * 0-based line. offset is where in the entry the tick landed: in a library without a
 * symbol there, it names the spot, for `objdump -d --start-address=<offset> <library>`.
 */
export function describeCode(c: PreprocessedCode, offset = 0): Frame {
  if (c.type === 'JS') {
    // V8 marks the tier with a leading ~ (interpreted), ^ (baseline), + or * (optimised).
    const name = c.name.replace(/^[~*^+]/, '');
    const m = /^(.*?) ?((?:file:\/\/|node:|\/)\S*?):(\d+):(\d+)$/.exec(name);
    if (m) return { functionName: m[1] || '(anonymous)', url: m[2], lineNumber: Number(m[3]) - 1 };
    return { functionName: name, url: '[JS]', lineNumber: -1 };
  }
  if (c.type === 'CPP') return { functionName: c.name, url: '[C++]', lineNumber: -1 };
  if (c.type === 'SHARED_LIB') {
    return { functionName: `${c.name.slice(c.name.lastIndexOf('/') + 1)}+0x${offset.toString(16)}`, url: '[no symbol]', lineNumber: -1 };
  }
  return { functionName: c.name, url: `[${c.kind ?? c.type}]`, lineNumber: -1 };
}

const kUnknown: Frame = { functionName: '(unknown code)', url: '', lineNumber: -1 };
const kGcFrame: Frame = { functionName: kGarbageCollector, url: '', lineNumber: -1 };
const kIdleFrame: Frame = { functionName: kIdle, url: '', lineNumber: -1 };

/** Self time per function over the ticks in the window (on the log's clock; all without one). */
export function ticksSelfTime(log: PreprocessedTicks, window?: WindowUs): SelfTimeReport {
  const ticks = [...log.ticks].sort((a, b) => a.tm - b.tm);
  const acc = new SelfTimeAccumulator();
  for (let i = 0; i < ticks.length; i++) {
    const t = ticks[i];
    if (window && (t.tm < window.startUs || t.tm >= window.endUs)) continue;
    // The last tick has no successor: it gets the interval before it.
    const span = i + 1 < ticks.length ? ticks[i + 1].tm - t.tm : i > 0 ? t.tm - ticks[i - 1].tm : 0;
    let leaf: PreprocessedCode | null = null;
    let leafOffset = 0;
    let caller: Frame | null = null;
    for (let k = 0; k < t.s.length; k += 2) {
      const c = t.s[k] >= 0 ? (log.code[t.s[k]] ?? null) : null;
      if (!c) continue;
      if (!leaf) {
        leaf = c;
        leafOffset = t.s[k + 1] ?? 0;
        if (c.type === 'JS') break;
      } else if (c.type === 'JS') {
        caller = describeCode(c);
        break;
      }
    }
    let frame = leaf ? describeCode(leaf, leafOffset) : t.vm === kVmGc ? kGcFrame : kUnknown;
    if (t.vm === kVmAtomicsWait || (leaf && kIdleSymbol.test(leaf.name))) frame = kIdleFrame;
    // GC time is the VM's state, whatever code the tick landed in.
    acc.add(frame, caller, span, t.vm === kVmGc);
  }
  return acc.report();
}
