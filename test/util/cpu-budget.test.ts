import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readCpuBudget } from '../../src/util/cpu-budget';

/** A fake filesystem root: each key a path under it, each value the file's text. */
function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cpu-budget-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

// proc(5) mountinfo lines, as the kernel writes them.
const kV2Mount = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
const kV1CpuMount = '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct\n';
const kV1CpusetMount = '34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime shared:9 - cgroup cgroup rw,cpuset\n';
const kProcMount = '22 1 0:5 / /proc rw,nosuid - proc proc rw\n';

function v2(cgroupPath: string, cpuMax: Record<string, string>): Record<string, string> {
  const files: Record<string, string> = {
    '/proc/self/cgroup': `0::${cgroupPath}\n`,
    '/proc/self/mountinfo': kProcMount + kV2Mount,
  };
  for (const [dir, text] of Object.entries(cpuMax)) files[join('/sys/fs/cgroup', dir, 'cpu.max')] = text;
  return files;
}

t.test('cgroup v2: cpu.max limits the CPUs below the affinity', async (t) => {
  const fsRoot = fakeRoot(v2('/kubepods/pod1/ctr', { '/kubepods/pod1/ctr': '200000 100000\n' }));
  const b = readCpuBudget({ fsRoot, affinity: 16 });
  t.equal(b.cpus, 2);
  t.equal(b.quota, 2);
  t.equal(b.affinity, 16);
  t.equal(b.source, 'cgroup v2 cpu.max 200000/100000 at /sys/fs/cgroup/kubepods/pod1/ctr, affinity 16');
});

t.test('cgroup v2: a fractional quota rounds up', async (t) => {
  const fsRoot = fakeRoot(v2('/ctr', { '/ctr': '250000 100000\n' }));
  const b = readCpuBudget({ fsRoot, affinity: 16 });
  t.equal(b.quota, 2.5);
  t.equal(b.cpus, 3, '250 ms of every 100 ms: three threads can spend it');
  const small = readCpuBudget({ fsRoot: fakeRoot(v2('/ctr', { '/ctr': '10000 100000\n' })), affinity: 16 });
  t.equal(small.quota, 0.1);
  t.equal(small.cpus, 1, 'never below one');
});

t.test('cgroup v2: "max" is no quota, the affinity decides', async (t) => {
  const fsRoot = fakeRoot(v2('/ctr', { '/ctr': 'max 100000\n' }));
  const b = readCpuBudget({ fsRoot, affinity: 16 });
  t.equal(b.quota, null);
  t.equal(b.cpus, 16);
  t.equal(b.source, 'cgroup v2 cpu.max: no quota at /sys/fs/cgroup/ctr or above, affinity 16');
});

t.test('cgroup v2: a tighter limit on a parent wins', async (t) => {
  const fsRoot = fakeRoot(v2('/kubepods/pod1/ctr', {
    '/kubepods/pod1/ctr': '400000 100000\n',
    '/kubepods/pod1': '150000 100000\n',
    '/kubepods': 'max 100000\n',
  }));
  const b = readCpuBudget({ fsRoot, affinity: 16 });
  t.equal(b.quota, 1.5);
  t.equal(b.cpus, 2);
  t.match(b.source, /^cgroup v2 cpu\.max 150000\/100000 at \/sys\/fs\/cgroup\/kubepods\/pod1, /);

  const onlyParent = readCpuBudget({ fsRoot: fakeRoot(v2('/kubepods/pod1/ctr', { '/kubepods/pod1': '300000 100000\n' })), affinity: 16 });
  t.equal(onlyParent.cpus, 3, 'the container\'s own directory without cpu.max does not hide the pod\'s limit');
});

t.test('cgroup v2: the walk stops at the mount point', async (t) => {
  // A cpu.max above the mount point is outside the hierarchy and must not be read.
  const files = v2('/ctr', { '/ctr': 'max 100000\n' });
  files['/sys/fs/cpu.max'] = '100000 100000\n';
  files['/sys/cpu.max'] = '100000 100000\n';
  t.equal(readCpuBudget({ fsRoot: fakeRoot(files), affinity: 8 }).quota, null);
});

t.test('cgroup v2: the mount point comes from mountinfo, else the usual place', async (t) => {
  const elsewhere = fakeRoot({
    '/proc/self/cgroup': '0::/ctr\n',
    '/proc/self/mountinfo': '30 23 0:26 / /cg\\040two rw - cgroup2 cgroup2 rw\n',
    '/cg two/ctr/cpu.max': '100000 100000\n',
  });
  const b = readCpuBudget({ fsRoot: elsewhere, affinity: 8 });
  t.equal(b.cpus, 1, 'octal escapes in mountinfo are decoded');
  t.match(b.source, /at \/cg two\/ctr,/);

  const noMountinfo = fakeRoot({ '/proc/self/cgroup': '0::/ctr\n', '/sys/fs/cgroup/ctr/cpu.max': '200000 100000\n' });
  t.equal(readCpuBudget({ fsRoot: noMountinfo, affinity: 8 }).cpus, 2);
});

t.test('cgroup v2 in a container without a cgroup namespace: the mount shows its own directory', async (t) => {
  const fsRoot = fakeRoot({
    '/proc/self/cgroup': '0::/system.slice/docker-abc.scope\n',
    '/proc/self/mountinfo': '30 23 0:26 /system.slice/docker-abc.scope /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n',
    '/sys/fs/cgroup/cpu.max': '200000 100000\n',
  });
  const b = readCpuBudget({ fsRoot, affinity: 8 });
  t.equal(b.cpus, 2);
  t.match(b.source, /at \/sys\/fs\/cgroup,/);
});

function v1(cgroupPath: string, dirs: Record<string, [quota: string, period: string]>): Record<string, string> {
  const files: Record<string, string> = {
    // Hybrid layout: v1 controllers plus an empty v2 line; the cpu line counts.
    '/proc/self/cgroup': `5:cpuset:/\n4:cpu,cpuacct:${cgroupPath}\n3:memory:${cgroupPath}\n0::/\n`,
    '/proc/self/mountinfo': kProcMount + kV1CpusetMount + kV1CpuMount +
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n',
  };
  for (const [dir, [quota, period]] of Object.entries(dirs)) {
    files[join('/sys/fs/cgroup/cpu,cpuacct', dir, 'cpu.cfs_quota_us')] = quota;
    files[join('/sys/fs/cgroup/cpu,cpuacct', dir, 'cpu.cfs_period_us')] = period;
  }
  return files;
}

t.test('cgroup v1: the CFS quota over the period', async (t) => {
  const fsRoot = fakeRoot(v1('/docker/abc', { '/docker/abc': ['150000\n', '100000\n'], '/': ['-1\n', '100000\n'] }));
  const b = readCpuBudget({ fsRoot, affinity: 16 });
  t.equal(b.quota, 1.5);
  t.equal(b.cpus, 2);
  t.equal(b.source, 'cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us 150000/100000 at /sys/fs/cgroup/cpu,cpuacct/docker/abc, affinity 16');
});

t.test('cgroup v1: quota -1 is no quota', async (t) => {
  const files = v1('/', { '/': ['-1\n', '100000\n'] });
  // Above the mount point: outside the hierarchy, never read.
  files['/sys/fs/cgroup/cpu.cfs_quota_us'] = '100000';
  files['/sys/fs/cgroup/cpu.cfs_period_us'] = '100000';
  const fsRoot = fakeRoot(files);
  const b = readCpuBudget({ fsRoot, affinity: 4 });
  t.equal(b.quota, null);
  t.equal(b.cpus, 4);
  t.match(b.source, /^cgroup v1 cpu\.cfs_quota_us\/cpu\.cfs_period_us: no quota at \/sys\/fs\/cgroup\/cpu,cpuacct or above/);
});

t.test('cgroup v1: a tighter parent wins; the v2 tree is not consulted for cpu', async (t) => {
  const files = v1('/kubepods/pod1/ctr', { '/kubepods/pod1/ctr': ['-1', '100000'], '/kubepods/pod1': ['50000', '100000'] });
  files['/sys/fs/cgroup/unified/cpu.max'] = '800000 100000\n';
  const b = readCpuBudget({ fsRoot: fakeRoot(files), affinity: 16 });
  t.equal(b.quota, 0.5);
  t.equal(b.cpus, 1);
});

t.test('cgroup v1: a cpu line with no cpu mount is said, and ignored', async (t) => {
  const files = v1('/', {});
  files['/proc/self/mountinfo'] = kProcMount + kV1CpusetMount;
  const b = readCpuBudget({ fsRoot: fakeRoot(files), affinity: 3 });
  t.equal(b.cpus, 3);
  t.equal(b.source, 'cgroup v1 cpu controller not found (not in /proc/self/mountinfo), quota ignored, affinity 3');
});

t.test('malformed files are ignored and named in the source', async (t) => {
  for (const text of ['lots\n', '200000\n', '0 100000\n', '200000 0\n', '-5 100000\n', '', '2e5 100000']) {
    const b = readCpuBudget({ fsRoot: fakeRoot(v2('/ctr', { '/ctr': text })), affinity: 6 });
    t.equal(b.cpus, 6, `cpu.max ${JSON.stringify(text)}`);
    t.equal(b.quota, null);
    t.match(b.source, /\/sys\/fs\/cgroup\/ctr\/cpu\.max malformed \(.*\), ignored, affinity 6$/);
  }
  const parentStillCounts = readCpuBudget({
    fsRoot: fakeRoot(v2('/pod/ctr', { '/pod/ctr': 'garbage', '/pod': '200000 100000' })),
    affinity: 6,
  });
  t.equal(parentStillCounts.cpus, 2, 'a malformed leaf does not hide a valid parent');
  t.match(parentStillCounts.source, /^cgroup v2 cpu\.max 200000\/100000 at \/sys\/fs\/cgroup\/pod, .*ctr\/cpu\.max malformed/);

  for (const [quota, period] of [['abc', '100000'], ['50000', '0'], ['0', '100000'], ['50000', 'x']]) {
    const b = readCpuBudget({ fsRoot: fakeRoot(v1('/', { '/': [quota, period] })), affinity: 6 });
    t.equal(b.cpus, 6, `v1 ${quota}/${period}`);
    t.match(b.source, /malformed/);
  }

  const garbageProc = fakeRoot({ '/proc/self/cgroup': 'nonsense\n\n', '/proc/self/mountinfo': 'also nonsense - x\n' });
  const g = readCpuBudget({ fsRoot: garbageProc, affinity: 5 });
  t.equal(g.cpus, 5);
  t.equal(g.source, 'no cgroup cpu controller in /proc/self/cgroup, affinity 5');
});

t.test('an unreadable cpu.max is said with its code', async (t) => {
  const fsRoot = fakeRoot(v2('/ctr', {}));
  mkdirSync(join(fsRoot, '/sys/fs/cgroup/ctr/cpu.max'), { recursive: true }); // a directory: EISDIR
  const b = readCpuBudget({ fsRoot, affinity: 4 });
  t.equal(b.cpus, 4);
  t.match(b.source, /\/sys\/fs\/cgroup\/ctr\/cpu\.max unreadable \(EISDIR\), ignored/);
});

t.test('no cgroup files at all: the affinity alone', async (t) => {
  const b = readCpuBudget({ fsRoot: fakeRoot({}), affinity: 7 });
  t.same(b, { cpus: 7, affinity: 7, quota: null, source: 'no cgroup quota read (/proc/self/cgroup: ENOENT), affinity 7' });
});

t.test('an affinity below the quota wins', async (t) => {
  const b = readCpuBudget({ fsRoot: fakeRoot(v2('/ctr', { '/ctr': '800000 100000' })), affinity: 2 });
  t.equal(b.quota, 8);
  t.equal(b.cpus, 2);
  t.equal(readCpuBudget({ fsRoot: fakeRoot({}), affinity: 0 }).cpus, 1, 'an affinity of 0 still leaves one CPU');
});

t.test('this machine: a sane reading', async (t) => {
  const b = readCpuBudget();
  const cores = cpus().length || availableParallelism();
  t.ok(Number.isInteger(b.cpus) && b.cpus >= 1 && b.cpus <= cores, `cpus ${b.cpus} of ${cores} (${b.source})`);
  t.equal(b.affinity, availableParallelism());
  t.ok(b.quota === null || b.quota > 0);
  t.match(b.source, /affinity \d+$/);
  t.comment(`this machine: cpus ${b.cpus}, quota ${b.quota}, ${b.source}`);
});
