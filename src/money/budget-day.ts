/**
 * A campaign's budget day: the local calendar day of its IANA time zone. Days at a DST
 * change are their true length (23 or 25 hours), so an even pace spreads the budget over
 * the hours the day really has; where a change skips midnight the day starts at 01:00
 * local. One Intl.DateTimeFormat per zone, made once; the last day asked about is cached.
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

/** The zone's local date at `ms` as yyyymmdd, a number that orders as the dates do. */
function dateNumber(tz: string, ms: number): number {
  const f = fields(tz, ms);
  return f.y * 10_000 + f.mo * 100 + f.d;
}

const kSearchMs = 16 * 3_600_000; // beyond any zone's offset from UTC (-12 h to +14 h)

/**
 * The first instant of the local day (y, mo, d) in the zone: usually its local midnight,
 * but where a DST change skips midnight (America/Santiago, America/Havana) the day starts
 * at the change, 01:00 local. The offset guess settles the usual case in two passes; it is
 * accepted only when that instant is in the day and the one before it is not, else a
 * binary search for the first instant whose local date is the day (or later) decides.
 */
function dayStart(tz: string, y: number, mo: number, d: number): number {
  const wall = Date.UTC(y, mo - 1, d);
  const target = y * 10_000 + mo * 100 + d;
  let t = wall - offsetAt(tz, wall);
  t = wall - offsetAt(tz, t);
  if (dateNumber(tz, t) === target && dateNumber(tz, t - 1) < target) return t;
  let lo = wall - kSearchMs; // local date before the day
  let hi = wall + kSearchMs; // local date the day or after
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dateNumber(tz, mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

export class BudgetDay {
  // The day last asked about: the owner asks every pacing step, and a day changes rarely.
  private cachedStart = 0;
  private cachedEnd = 0;
  private cachedKey = '';

  constructor(readonly timezone: string) {
    formatOf(timezone);
  }

  /** "YYYY-MM-DD" of the local day holding `ms`. */
  keyOf(ms: number): string {
    if (this.cached(ms)) return this.cachedKey;
    const f = fields(this.timezone, ms);
    return `${f.y}-${String(f.mo).padStart(2, '0')}-${String(f.d).padStart(2, '0')}`;
  }

  /** Unix ms of the start of the local day holding `ms`. */
  startOf(ms: number): number {
    this.load(ms);
    return this.cachedStart;
  }

  /** Length in ms of the local day holding `ms` (24 h, or 23/25 h at a DST change). */
  lengthOf(ms: number): number {
    this.load(ms);
    return this.cachedEnd - this.cachedStart;
  }

  private cached(ms: number): boolean {
    return this.cachedStart <= ms && ms < this.cachedEnd;
  }

  private load(ms: number): void {
    if (this.cached(ms)) return;
    const tz = this.timezone;
    const f = fields(tz, ms);
    const next = new Date(Date.UTC(f.y, f.mo - 1, f.d + 1));
    this.cachedStart = dayStart(tz, f.y, f.mo, f.d);
    this.cachedEnd = dayStart(tz, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
    this.cachedKey = `${f.y}-${String(f.mo).padStart(2, '0')}-${String(f.d).padStart(2, '0')}`;
  }
}
