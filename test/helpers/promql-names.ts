/**
 * The metric names a PromQL expression reads, for checking shipped rules and dashboards
 * against what the bidder exports. Not a PromQL parser: it drops what cannot be a metric
 * name (strings, label matchers, grouping clauses, range and offset durations, Grafana
 * variables, function calls, keywords) and keeps the identifiers left.
 */
const KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool',
  'inf', 'nan', 'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
]);

export function metricNamesIn(expr: string): string[] {
  let e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // string literals
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables ($__rate_interval, ${campaign})
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery durations
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping label lists
    .replace(/\boffset\s+-?\w+/g, ' ');
  e = e.replace(/@\s*[\w.()]+/g, ' ');
  const names = new Set<string>();
  const re = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  for (let m = re.exec(e); m !== null; m = re.exec(e)) {
    const token = m[0];
    const before = e[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1e3, 0.5
    const after = e.slice(m.index + token.length).match(/^\s*(.)/)?.[1];
    if (after === '(') continue; // a function or an aggregation
    if (KEYWORDS.has(token.toLowerCase())) continue;
    names.add(token);
  }
  return [...names].sort();
}

/** The family a sample name belongs to: histogram and summary series carry suffixes. */
export function familyCandidates(name: string): string[] {
  const out = [name];
  for (const suffix of ['_bucket', '_sum', '_count']) if (name.endsWith(suffix)) out.push(name.slice(0, -suffix.length));
  return out;
}

/**
 * The names in `exprs` that are neither exported families (with their histogram
 * suffixes) nor recording rules defined in `recorded`; `up` is Prometheus's own.
 */
export function unknownNames(exprs: readonly string[], exported: ReadonlySet<string>, recorded: ReadonlySet<string> = new Set()): string[] {
  const unknown = new Set<string>();
  for (const expr of exprs) {
    for (const name of metricNamesIn(expr)) {
      if (name === 'up' || recorded.has(name)) continue;
      if (familyCandidates(name).some((f) => exported.has(f))) continue;
      unknown.add(name);
    }
  }
  return [...unknown].sort();
}
