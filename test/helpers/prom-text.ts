/**
 * A small, strict parser of the Prometheus text exposition format (0.0.4), for tests:
 * it rejects what a scraper would reject or misread, instead of skipping it.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  line: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
}

export interface Exposition {
  families: Map<string, Family>;
  /** Every problem found; empty means the text is well formed. */
  errors: string[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string): number | undefined {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** Parses `{a="x",b="y\"z"}` starting at text[i] === '{'; returns labels and the index after '}'. */
function parseLabels(text: string, i: number, err: (m: string) => void): { labels: Record<string, string>; end: number } | null {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) {
      err('label without "="');
      return null;
    }
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) {
      err(`bad label name ${JSON.stringify(name)}`);
      return null;
    }
    if (name in labels) err(`duplicate label ${name}`);
    if (text[eq + 1] !== '"') {
      err(`label ${name}: value not quoted`);
      return null;
    }
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = text[j];
      if (c === undefined) {
        err(`label ${name}: unterminated value`);
        return null;
      }
      if (c === '\\') {
        const n = text[j + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else {
          err(`label ${name}: bad escape \\${n}`);
          return null;
        }
        j += 2;
        continue;
      }
      if (c === '"') break;
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') {
      err(`label ${name}: expected "," or "}"`);
      return null;
    }
  }
}

/** The family a sample belongs to: histogram/summary suffixes map to their base name. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>();
  const errors: string[] = [];
  const seenSeries = new Set<string>();
  const lines = text.split('\n');
  if (text.length > 0 && !text.endsWith('\n')) errors.push('text does not end with a newline');
  let closed = new Set<string>();
  let current: string | undefined;
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    const err = (m: string): void => {
      errors.push(`line ${line}: ${m}: ${raw.slice(0, 120)}`);
    };
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name)) return err(`bad metric name ${name}`);
      let f = families.get(name);
      if (f && current !== name) return err(`${kind} for ${name} after its samples or another family`);
      if (!f) {
        if (closed.has(name)) return err(`${name} appears twice`);
        f = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, f);
        if (current !== undefined) closed.add(current);
        current = name;
      }
      if (kind === 'HELP') {
        if (f.help !== undefined) return err(`second HELP for ${name}`);
        f.help = rest ?? '';
      } else {
        if (!TYPES.has(rest ?? '')) return err(`unknown type ${rest}`);
        if (f.samples.length > 0) return err(`TYPE for ${name} after its samples`);
        f.type = rest as Family['type'];
      }
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nm) return err('bad metric name');
    const name = nm[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (raw[i] === '{') {
      const parsed = parseLabels(raw, i, err);
      if (parsed === null) return;
      labels = parsed.labels;
      i = parsed.end;
    }
    if (raw[i] !== ' ') return err('expected a space before the value');
    const parts = raw.slice(i + 1).split(' ');
    if (parts.length > 2) return err('trailing text after value and timestamp');
    const value = parseValue(parts[0]);
    if (value === undefined) return err(`bad value ${parts[0]}`);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) return err(`bad timestamp ${parts[1]}`);
    const f = familyOf(name, families);
    if (f === undefined) return err(`sample ${name} has no TYPE/HELP family before it`);
    if (f.name !== current) return err(`sample ${name} is not grouped with its family ${f.name}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seenSeries.has(key)) return err(`duplicate series ${key}`);
    seenSeries.add(key);
    f.samples.push({ name, labels, value, line });
  });
  for (const f of families.values()) {
    if (f.type === 'histogram') errors.push(...checkHistogram(f));
    if (f.type === 'counter') {
      for (const s of f.samples) if (!(s.value >= 0)) errors.push(`${s.name}: counter value ${s.value} is negative or NaN`);
    }
  }
  return { families, errors };
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
}

/** Buckets ascending by le, cumulative, ending with +Inf equal to _count; _sum present. */
function checkHistogram(f: Family): string[] {
  const errors: string[] = [];
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const key = seriesKey(s.labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels.le === undefined ? undefined : parseValue(s.labels.le);
      if (le === undefined) errors.push(`${f.name}${key}: bucket without a numeric le`);
      else g.buckets.push([le, s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else errors.push(`${f.name}: unexpected sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const at = `${f.name}${key}`;
    if (g.buckets.length === 0) errors.push(`${at}: no buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i][0] > g.buckets[i - 1][0])) errors.push(`${at}: le not ascending at ${g.buckets[i][0]}`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) errors.push(`${at}: bucket le=${g.buckets[i][0]} not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1];
    if (!last || last[0] !== Infinity) errors.push(`${at}: last bucket is not le="+Inf"`);
    if (g.count === undefined) errors.push(`${at}: no _count`);
    else if (last && last[1] !== g.count) errors.push(`${at}: +Inf bucket ${last[1]} != _count ${g.count}`);
    if (g.sum === undefined) errors.push(`${at}: no _sum`);
  }
  return errors;
}

/** Samples of a family whose labels include every given pair. */
export function samplesWith(exp: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  const f = familyOf(name, exp.families);
  if (!f) return [];
  return f.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
