/**
 * How many CPUs this process may use: its affinity mask and its cgroup CPU quota (v2
 * cpu.max, or the v1 CFS quota), never os.cpus(), which counts the host's cores: a pod
 * limited to 2 CPUs on a 64-core node sees 64 there and would start 64 threads.
 *
 * Read once at start (a few small files). Never throws: a file that is missing,
 * unreadable or malformed is left out of the reading, and `source` says so, because a
 * bidder that refuses to start over a /proc quirk is worse than one sized by its affinity.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { posix } from 'node:path';

export interface CpuBudget {
  /** CPUs this process may use: an integer >= 1, what thread counts default to. */
  readonly cpus: number;
  /** CPUs in the affinity mask (sched_getaffinity). */
  readonly affinity: number;
  /** CPUs the cgroup quota allows (fractional), the tightest on the path to the root; null: no quota. */
  readonly quota: number | null;
  /** One line for the startup log: where each figure came from, and what was ignored. */
  readonly source: string;
}

export interface CpuBudgetOptions {
  /** Where /proc and /sys are found (tests point it at a fake tree). Default '/'. */
  fsRoot?: string;
  /** CPUs in the affinity mask. Default: os.availableParallelism() (libuv asks sched_getaffinity). */
  affinity?: number;
}

/** A quota found at one cgroup directory. */
interface Limit {
  /** CPUs: quota / period. */
  cpus: number;
  /** As the files say it, e.g. "200000/100000". */
  text: string;
  /** The directory, as this process sees it (without fsRoot). */
  dir: string;
}

interface Reading {
  /** e.g. "cgroup v2 cpu.max", "cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us". */
  what: string;
  /** The process's own cgroup directory. */
  leaf: string;
  limit: Limit | null;
  notes: string[];
}

interface CgroupLine {
  /** Hierarchy id: 0 for the cgroup v2 line. */
  id: string;
  controllers: string[];
  path: string;
}

interface Mount {
  /** The hierarchy's directory this mount shows (field 4). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

type ReadResult = { ok: true; text: string } | { ok: false; code: string };

/** The v2 mount point when /proc/self/mountinfo cannot tell (the unified layout's). */
const kDefaultV2Mount = '/sys/fs/cgroup';
/** Directories walked up from the process's cgroup at most: real trees are a handful deep. */
const kMaxDepth = 64;

export function readCpuBudget(options: CpuBudgetOptions = {}): CpuBudget {
  const fsRoot = options.fsRoot ?? '/';
  const affinity = Math.max(1, Math.floor(options.affinity ?? availableParallelism()));
  const reading = readCgroupQuota(fsRoot);
  const quota = reading.limit === null ? null : reading.limit.cpus;
  // The quota rounds up. CFS enforces it per period (100 ms by default), not per instant:
  // 2.5 CPUs is 250 ms of run time in each 100 ms, which three busy threads can spend
  // (about 83 ms each) and two cannot (200 ms, the rest unused). When all three are busy
  // at once the cgroup is throttled for the end of the period, but a bidder's load comes
  // in bursts shorter than that, and rounding down would leave the half CPU idle always.
  const cpus = Math.max(1, quota === null ? affinity : Math.min(affinity, Math.ceil(quota)));
  return { cpus, affinity, quota, source: describe(reading, affinity) };
}

function describe(r: Reading, affinity: number): string {
  const parts: string[] = [];
  if (r.limit !== null) {
    parts.push(`${r.what} ${r.limit.text} at ${r.limit.dir}`);
  } else if (r.what !== '') {
    parts.push(`${r.what}: no quota at ${r.leaf} or above`);
  }
  parts.push(...r.notes, `affinity ${affinity}`);
  return parts.join(', ');
}

function readCgroupQuota(fsRoot: string): Reading {
  const none: Reading = { what: '', leaf: '', limit: null, notes: [] };
  const cgroupFile = read(fsRoot, '/proc/self/cgroup');
  if (!cgroupFile.ok) {
    none.notes.push(`no cgroup quota read (/proc/self/cgroup: ${cgroupFile.code})`);
    return none;
  }
  const lines = parseCgroupFile(cgroupFile.text);
  const mountinfo = read(fsRoot, '/proc/self/mountinfo');
  const mounts = mountinfo.ok ? parseMountinfo(mountinfo.text) : [];

  // A controller is bound to one hierarchy. On a hybrid host (v1 controllers plus an
  // empty v2 tree, this machine's layout) the v1 line naming cpu is the one that counts.
  const v1 = lines.find((l) => l.id !== '0' && l.controllers.includes('cpu'));
  if (v1 !== undefined) {
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('cpu'));
    if (mount === undefined) {
      const why = mountinfo.ok ? 'not in /proc/self/mountinfo' : `/proc/self/mountinfo: ${mountinfo.code}`;
      none.notes.push(`cgroup v1 cpu controller not found (${why}), quota ignored`);
      return none;
    }
    return walk(fsRoot, 'cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us', mount, v1.path, readV1Limit);
  }
  const v2 = lines.find((l) => l.id === '0' && l.controllers.length === 0);
  if (v2 !== undefined) {
    const mount = mounts.find((m) => m.fsType === 'cgroup2') ??
      { root: '/', mountPoint: kDefaultV2Mount, fsType: 'cgroup2', superOptions: [] };
    return walk(fsRoot, 'cgroup v2 cpu.max', mount, v2.path, readV2Limit);
  }
  none.notes.push('no cgroup cpu controller in /proc/self/cgroup');
  return none;
}

/**
 * From the process's cgroup directory up to the mount point: a pod's limit often sits on
 * a parent (kubepods/pod<uid>) while the container's own directory has none, and the
 * kernel enforces every level, so the tightest one is the limit.
 */
function walk(
  fsRoot: string,
  what: string,
  mount: Mount,
  cgroupPath: string,
  readLimit: (fsRoot: string, dir: string, notes: string[]) => Limit | null,
): Reading {
  const leaf = cgroupDir(mount, cgroupPath);
  const reading: Reading = { what, leaf, limit: null, notes: [] };
  let dir = leaf;
  for (let depth = 0; depth < kMaxDepth; depth++) {
    const limit = readLimit(fsRoot, dir, reading.notes);
    if (limit !== null && (reading.limit === null || limit.cpus < reading.limit.cpus)) reading.limit = limit;
    if (dir === mount.mountPoint || dir === '/') break;
    dir = posix.dirname(dir);
  }
  return reading;
}

/**
 * Where the process's cgroup lies under a mount. With a cgroup namespace (or the host's
 * own view) the mount shows the hierarchy's root and the path joins onto it; without one,
 * a container's mount shows its own directory (root = the path, or a prefix of it).
 */
function cgroupDir(mount: Mount, cgroupPath: string): string {
  const path = posix.normalize(`/${cgroupPath}`);
  const root = posix.normalize(`/${mount.root}`);
  let rel: string;
  if (root === '/') rel = path;
  else if (path === root || path.startsWith(`${root}/`)) rel = path.slice(root.length);
  else rel = '/';
  // posix.join keeps a trailing slash ("/sys/fs/cgroup/cpu/" for the root cgroup "/"),
  // which would never equal the mount point and let the walk climb past it.
  const dir = stripTrailingSlash(posix.join(mount.mountPoint, rel));
  // Never above the mount point, whatever the file said.
  return dir === mount.mountPoint || dir.startsWith(`${mount.mountPoint}/`) ? dir : mount.mountPoint;
}

function stripTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** cpu.max: "max 100000" (no quota) or "<quota> <period>", both in microseconds. */
function readV2Limit(fsRoot: string, dir: string, notes: string[]): Limit | null {
  const file = posix.join(dir, 'cpu.max');
  const r = read(fsRoot, file);
  if (!r.ok) return missing(file, r.code, notes);
  const m = /^(max|\d+)(?: (\d+))?$/.exec(r.text.trim());
  if (m === null || (m[1] !== 'max' && m[2] === undefined)) return malformed(file, r.text, notes);
  if (m[1] === 'max') return null;
  return limitOf(Number(m[1]), Number(m[2]), file, r.text, dir, notes);
}

/** cpu.cfs_quota_us (-1: no quota) and cpu.cfs_period_us, in microseconds. */
function readV1Limit(fsRoot: string, dir: string, notes: string[]): Limit | null {
  const quotaFile = posix.join(dir, 'cpu.cfs_quota_us');
  const q = read(fsRoot, quotaFile);
  if (!q.ok) return missing(quotaFile, q.code, notes);
  const quotaText = q.text.trim();
  if (quotaText === '-1') return null;
  if (!/^\d+$/.test(quotaText)) return malformed(quotaFile, q.text, notes);
  const periodFile = posix.join(dir, 'cpu.cfs_period_us');
  const p = read(fsRoot, periodFile);
  if (!p.ok) return missing(periodFile, p.code, notes);
  const periodText = p.text.trim();
  if (!/^\d+$/.test(periodText)) return malformed(periodFile, p.text, notes);
  return limitOf(Number(quotaText), Number(periodText), quotaFile, q.text, dir, notes);
}

function limitOf(quotaUs: number, periodUs: number, file: string, text: string, dir: string, notes: string[]): Limit | null {
  if (!(quotaUs > 0 && periodUs > 0 && Number.isSafeInteger(quotaUs) && Number.isSafeInteger(periodUs))) {
    return malformed(file, text, notes);
  }
  return { cpus: quotaUs / periodUs, text: `${quotaUs}/${periodUs}`, dir };
}

/** A directory without the file is normal (the root cgroup has none): silent. Anything else is said. */
function missing(file: string, code: string, notes: string[]): null {
  if (code !== 'ENOENT') notes.push(`${file} unreadable (${code}), ignored`);
  return null;
}

function malformed(file: string, text: string, notes: string[]): null {
  notes.push(`${file} malformed (${JSON.stringify(text.trim().slice(0, 40))}), ignored`);
  return null;
}

function read(fsRoot: string, path: string): ReadResult {
  try {
    return { ok: true, text: readFileSync(fsRoot === '/' ? path : posix.join(fsRoot, path), 'utf8') };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? 'EIO' };
  }
}

/** "hierarchy-id:controller,list:/path" per line; v2's line is "0::/path". */
function parseCgroupFile(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    const controllers = line.slice(a + 1, b);
    out.push({ id: line.slice(0, a), controllers: controllers === '' ? [] : controllers.split(','), path: line.slice(b + 1) });
  }
  return out;
}

/** proc(5): "id parent maj:min root mount-point options [optional...] - fstype source super-options". */
function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 4) continue;
    out.push({
      root: unescapeMountField(f[3]),
      mountPoint: stripTrailingSlash(posix.normalize(unescapeMountField(f[4]))),
      fsType: f[sep + 1],
      superOptions: f[sep + 3].split(','),
    });
  }
  return out;
}

/** The kernel writes space, tab, newline and backslash in paths as octal escapes (\040). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
