/**
 * A campaign's budget day: the local calendar day of its IANA time zone. Days at a DST
 * change are their true length (23 or 25 hours), so an even pace spreads the budget over
 * the hours the day really has. One Intl.DateTimeFormat per zone, made once.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formats.set(tz, f);
  }
  return f;
}

export function validTimezone(tz: string): boolean {
  try {
    formatOf(tz);
    return true;
  } catch {
    return false;
  }
}

/** The zone's wall-clock fields at `ms`. */
function fields(tz: string, ms: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts = formatOf(tz).formatToParts(new Date(ms));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)!.value);
  return { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute'), s: get('second') };
}

/** The zone's offset from UTC at `ms`, in ms (local = utc + offset). */
function offsetAt(tz: string, ms: number): number {
  const f = fields(tz, ms);
  const asUtc = Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s);
  return asUtc - (ms - (ms % 1000 + 1000) % 1000);
}

/** The UTC instant of local midnight of (y, mo, d) in the zone. */
function localMidnight(tz: string, y: number, mo: number, d: number): number {
  const guess = Date.UTC(y, mo - 1, d);
  // Two passes settle the offset even when midnight is near a DST change.
  let t = guess - offsetAt(tz, guess);
  t = guess - offsetAt(tz, t);
  return t;
}

export class BudgetDay {
  constructor(readonly timezone: string) {
    formatOf(timezone);
  }

  /** "YYYY-MM-DD" of the local day holding `ms`. */
  keyOf(ms: number): string {
    const f = fields(this.timezone, ms);
    return `${f.y}-${String(f.mo).padStart(2, '0')}-${String(f.d).padStart(2, '0')}`;
  }

  /** Unix ms of the start of the local day holding `ms`. */
  startOf(ms: number): number {
    const f = fields(this.timezone, ms);
    return localMidnight(this.timezone, f.y, f.mo, f.d);
  }

  /** Length in ms of the local day holding `ms` (24 h, or 23/25 h at a DST change). */
  lengthOf(ms: number): number {
    const f = fields(this.timezone, ms);
    const next = new Date(Date.UTC(f.y, f.mo - 1, f.d + 1));
    return localMidnight(this.timezone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()) - localMidnight(this.timezone, f.y, f.mo, f.d);
  }
}
