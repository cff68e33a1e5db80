/**
 * Runs deploy/rehearse-image.mjs: the Dockerfile's steps performed in a temporary folder
 * (two clean npm installs, the TypeScript build, the build-time --check), then the bidder
 * started from the result as uid 1000 on a read-only app folder, one bid, SIGTERM.
 *
 * Slow (one to three minutes, mostly npm ci from an empty cache) and it needs the npm
 * registry, root and setpriv: skipped, with the reason, where any is missing, and when
 * RTB_SKIP_IMAGE_REHEARSAL=1 (e.g. a run of the whole suite that measures timings on a
 * small machine: the installs and tsc take the CPU for a minute).
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
const SCRIPT = join(REPO, 'deploy/rehearse-image.mjs');
const kTimeoutMs = 420_000;

t.setTimeout(kTimeoutMs + 30_000);

function skipReason(): string | false {
  if (process.env.RTB_SKIP_IMAGE_REHEARSAL === '1') return 'RTB_SKIP_IMAGE_REHEARSAL=1';
  if (process.platform !== 'linux') return `needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'needs root (the app folder is root-owned and the bidder runs as uid 1000)';
  if (!['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].some((p) => existsSync(p))) return 'needs setpriv (util-linux)';
  const npm = spawnSync('npm', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (npm.status !== 0) return 'needs npm on PATH';
  const ping = spawnSync('npm', ['ping'], { encoding: 'utf8', timeout: 20_000, cwd: REPO });
  if (ping.status !== 0) return 'needs the npm registry (npm ping failed): the rehearsal installs from it like a docker build';
  return false;
}

const skip = skipReason();

t.test('the image rehearsal builds, starts, serves, stays read-only and drains', { skip, timeout: kTimeoutMs + 10_000 }, async (t) => {
  // A clean environment for the script: none of the test runner's loaders or settings.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(NODE_OPTIONS|NODE_V8_COVERAGE|TAP|_TAPJS|npm_)/i.test(k) && !k.startsWith('BIDDER_')) env[k] = v;
  }
  const child = spawn(process.execPath, [SCRIPT], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  // The script removes its folder and stops its bidder on SIGTERM.
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), kTimeoutMs);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  const diag = { stdout, stderrTail: stderr.split('\n').slice(-40).join('\n') };

  t.equal(code, 0, 'the rehearsal exits 0', diag);
  t.match(stdout, /^rehearse-image: PASS \(\d+ checks in \d+ s\)$/m, 'the summary says PASS', diag);
  t.notMatch(stdout, /^FAIL /m, 'no check failed', diag);
  for (const line of [
    /^ok\s+build: FROM: node:20\.\d+\.\d+-bookworm-slim on Node v20\./m,
    /^ok\s+build: RUN npm ci .*: exit 0/m,
    /^ok\s+build: RUN npm run build: exit 0/m,
    /^ok\s+runtime: RUN npm ci --omit=dev.*: exit 0/m,
    /^ok\s+runtime: RUN node dist\/src\/main\.js --check: exit 0 as 1000:1000/m,
    /^ok\s+runtime: USER: 1000:1000/m,
    /^ok\s+runtime: VOLUME \/var\/lib\/rtb-bidder\/events: owned by 1000:/m,
    /^ok\s+runtime: read-only app: a write into \/app as 1000:1000 gives EACCES/m,
    /^ok\s+runtime: start: \/readyz 200 after \d+ ms/m,
    /^ok\s+runtime: process user: uid 1000\/1000\/1000\/1000, gid 1000\/1000\/1000\/1000/m,
    /^ok\s+runtime: bid: POST \/openrtb2\/bid -> (200|204)/m,
    /^ok\s+runtime: secrets: .*\/admin\/models 200 with it, 401 without/m,
    /^ok\s+runtime: SIGTERM: exit 0 after \d+ ms/m,
    /^ok\s+runtime: read-only root: \d+ paths outside the volumes and \/tmp unchanged/m,
    /^ok\s+runtime: event log: [1-9]\d* file\(s\) in the volume/m,
  ]) {
    t.match(stdout, line, `summary has ${line}`, diag);
  }
});
