#!/usr/bin/env node
/**
 * Rehearses deploy/Dockerfile where there is no container daemon: reads the Dockerfile and
 * performs its instructions, stage by stage, in a fresh temporary folder that stands for
 * each stage's root filesystem, then runs the last stage the way Kubernetes runs the pod.
 *
 *   sudo node deploy/rehearse-image.mjs [--keep] [--dockerfile PATH]
 *
 * Needs root (the app is root-owned and the bidder runs as another user, as in the image),
 * setpriv (util-linux), npm and the npm registry. Takes a minute or three: two clean
 * installs into an empty npm cache, as a docker build would.
 *
 * What it rehearses, taken from the Dockerfile rather than written again here:
 *   - COPY from the context, through the root .dockerignore (same rules as Docker), and
 *     COPY --from=<stage>; WORKDIR, ENV, ARG, USER, VOLUME, CMD.
 *   - RUN, one `&&` step at a time. npm and node steps run verbatim (`sh -c` on the step's
 *     exact text), so the npm ci lines cannot drift from the Dockerfile's. Steps on the
 *     image's own filesystem (mkdir -p, chown, chmod, rm -rf of absolute paths) are applied
 *     inside the stage's folder, never to this machine. Any other step, or an instruction
 *     it cannot rehearse (ADD, SHELL, ONBUILD, heredocs), fails the rehearsal: teach this
 *     script before shipping a Dockerfile it cannot check.
 * What it cannot rehearse: the base image itself. Its Node and libc are this machine's;
 * the summary says which, and it refuses to run on another Node major (another ABI).
 *
 * Then, as the runtime user and with the pod's read-only root filesystem (everything but
 * the VOLUMEs and /tmp made non-writable), with the secrets mounted as Kubernetes mounts
 * them (root:1000, 0440): starts CMD on loopback ports, waits for /readyz, sends one bid
 * request, checks the admin token and /metrics, sends SIGTERM and expects exit 0 within
 * the drain time, and checks that nothing outside the event log changed.
 *
 * The summary goes to stdout, one line per check ("ok" or "FAIL"), ending in
 * "rehearse-image: PASS" or "rehearse-image: FAIL"; build logs go to stderr. The temporary
 * folder and every process it started are removed on any exit (--keep leaves the folder).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync, chownSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync,
  readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const KEEP = args.includes('--keep');
const dfArg = args.indexOf('--dockerfile');
const DOCKERFILE = resolve(dfArg >= 0 ? args[dfArg + 1] : join(REPO, 'deploy/Dockerfile'));
/** The build context: the repository root, as `docker build -f deploy/Dockerfile .`. */
const CONTEXT = REPO;

/** Users the node base image defines, for a USER given by name. */
const IMAGE_USERS = { root: [0, 0], node: [1000, 1000] };
/** glibc of each Debian release the node images are built on. */
const DEBIAN_GLIBC = { bullseye: '2.31', bookworm: '2.36', trixie: '2.41' };
/** The image's PATH (the node image's default). */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where deploy/k8s mounts the Secret's keys (the same paths as its config.json). */
const SECRET_DIR = '/etc/rtb-bidder/secrets';
/** One RUN step may take this long (npm ci on a slow registry). */
const kStepTimeoutMs = 600_000;
/** `--check` must exit by then; a build step that serves forever would hang docker build. */
const kCheckTimeoutMs = 90_000;
const kReadyTimeoutMs = 120_000;
/** Margin over server.drainTimeoutMs for the process to exit after SIGTERM. */
const kExitMarginMs = 5_000;

// ---------------------------------------------------------------------------------------
// Summary and cleanup

const results = [];
function check(name, ok, detail) {
  results.push({ name, ok, detail });
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}\n`);
  if (!ok) throw new RehearsalFailure(`${name}: ${detail}`);
}
function note(line) {
  process.stdout.write(`     ${line}\n`);
}
function log(line) {
  process.stderr.write(`rehearse-image: ${line}\n`);
}
class RehearsalFailure extends Error {}

let TMP = '';
/** Process groups still running (each child is started as a group leader). */
const liveGroups = new Set();

function cleanup() {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
  if (TMP && !KEEP) {
    try {
      rmSync(TMP, { recursive: true, force: true }); // root may delete in read-only folders
    } catch (err) {
      process.stderr.write(`rehearse-image: could not remove ${TMP}: ${err.message}\n`);
    }
  } else if (TMP) {
    process.stderr.write(`rehearse-image: kept ${TMP}\n`);
  }
  TMP = '';
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stdout.write(`rehearse-image: FAIL (interrupted by ${sig})\n`);
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

// ---------------------------------------------------------------------------------------
// Dockerfile parsing

/**
 * Instructions of a Dockerfile: comments dropped (parser directives are comments too),
 * `\` continuations joined, keyword upper-cased. Heredocs are refused.
 */
function parseDockerfile(text) {
  const out = [];
  let buf = '';
  let startLine = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*#/.test(line)) continue; // a comment, also between continued lines
    if (buf === '' && line.trim() === '') continue;
    if (buf === '') startLine = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(buf);
    if (!m) throw new Error(`Dockerfile line ${startLine}: cannot parse "${buf.trim()}"`);
    if (/<<-?["']?[A-Za-z_]/.test(m[2]) && ['RUN', 'COPY'].includes(m[1].toUpperCase())) {
      throw new Error(`Dockerfile line ${startLine}: heredocs are not rehearsed`);
    }
    out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: startLine });
    buf = '';
  }
  if (buf.trim() !== '') throw new Error('Dockerfile ends inside a continued line');
  return out;
}

/** ${NAME}, ${NAME:-default}, $NAME from `vars`; unknown names become ''. */
function substitute(s, vars) {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, dflt, b) => {
    const v = vars[a ?? b];
    return v !== undefined && v !== '' ? v : dflt ?? '';
  });
}

/** `K=V K2="v w"` (or the legacy `K V`) into pairs. */
function parsePairs(s) {
  const pairs = [];
  const re = /([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*=/.test(s)) {
    const sp = s.indexOf(' ');
    return sp < 0 ? [[s, undefined]] : [[s.slice(0, sp), s.slice(sp + 1).trim()]];
  }
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    let v = m[2];
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'")) v = v.slice(1, -1);
    pairs.push([m[1], v]);
  }
  return pairs;
}

/** Exec-form JSON array, or whitespace-separated words. */
function words(s) {
  const t = s.trim();
  if (t.startsWith('[')) return JSON.parse(t);
  return t.split(/\s+/).filter(Boolean);
}

// ---------------------------------------------------------------------------------------
// .dockerignore, with Docker's rules: patterns relative to the context root, `*` and `?`
// within one path segment, `**` across segments, a pattern excludes a path when it
// matches the path or one of its parent folders, `!` re-includes, the last match decides.

function loadDockerignore(contextDir) {
  const file = join(contextDir, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const rules = [];
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1).trim();
    p = posix.normalize(p.replace(/^\/+/, '')).replace(/\/+$/, '');
    rules.push({ negate, re: globToRegExp(p) });
  }
  return (rel) => {
    const paths = [];
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) paths.push(parts.slice(0, i).join('/'));
    let excluded = false;
    for (const r of rules) if (paths.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// ---------------------------------------------------------------------------------------
// Processes

function findTool(name) {
  for (const dir of IMAGE_PATH.split(':')) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/**
 * Starts argv with exactly `env` and nothing else, in its own process group. Through
 * `env -i`, because a hook in this process (a test runner's NODE_OPTIONS loader, which
 * wraps child_process) may add variables to whatever spawn() is given; env -i drops them
 * before argv starts, as a container's process gets only the image's environment.
 */
function spawnClean(argv, env, cwd) {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return spawn(ENV_TOOL, ['-i', ...pairs, ...argv], { cwd, env: {}, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs argv in its own process group; resolves with { code, signal, out, ms }. `stream`
 * copies its output to stderr as it comes (build logs); the output is kept either way.
 */
function run(argv, { cwd, env, timeoutMs, stream = true }) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawnClean(argv, env, cwd);
    liveGroups.add(child.pid);
    const chunks = [];
    const take = (c) => {
      chunks.push(c);
      if (stream) process.stderr.write(c);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveGroups.delete(child.pid);
      resolvePromise({ code, signal, timedOut, out: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started });
    });
  });
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePromise(port));
    });
  });
}

function http(port, method, path, { body, headers = {} } = {}) {
  return new Promise((resolvePromise) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 5_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolvePromise({ status: 0, body: err.message }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// Stage folders

/** A stage: its own root filesystem under TMP, and what the Dockerfile set so far. */
function newStage(name, image, index) {
  const root = join(TMP, `stage-${index}-${name ?? 'unnamed'}`);
  // What the base image has that the steps rely on: a sticky /tmp, /root, the node
  // user's home (owned by it, as in the node image).
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  mkdirSync(join(root, 'root'), { recursive: true, mode: 0o700 });
  mkdirSync(join(root, 'home/node'), { recursive: true });
  chownSync(join(root, 'home/node'), 1000, 1000);
  chmodSync(root, 0o755);
  return { name, image, root, workdir: '/', env: {}, args: {}, user: [0, 0], volumes: [], cmd: null, copies: 0, runs: [] };
}

/** The folder standing for `containerPath` in the stage; never outside the stage's root. */
function inStage(stage, containerPath) {
  const abs = posix.resolve(stage.workdir, containerPath);
  const host = join(stage.root, abs);
  if (host !== stage.root && !host.startsWith(`${stage.root}/`)) throw new Error(`${containerPath} leaves the stage`);
  return host;
}

function stageVars(stage) {
  return { ...stage.args, ...stage.env };
}

/** Expands a trailing-segment glob (`dir/*.onnx`) against a folder; plain paths as given. */
function expand(baseDir, pattern) {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const dir = posix.dirname(pattern);
  if (/[*?[]/.test(dir)) throw new Error(`glob in a folder name is not rehearsed: ${pattern}`);
  const re = globToRegExp(posix.basename(pattern));
  const full = join(baseDir, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).filter((n) => re.test(n)).sort().map((n) => posix.join(dir, n));
}

/** Every file under `dir` (relative to `base`), skipping what `ignored` excludes. */
function walkFiles(base, rel, ignored, out) {
  const st = lstatSync(join(base, rel));
  if (st.isDirectory()) {
    for (const name of readdirSync(join(base, rel)).sort()) walkFiles(base, posix.join(rel, name), ignored, out);
  } else if (!ignored(rel)) {
    out.push(rel);
  }
  return out;
}

function chownTree(path, uid, gid) {
  const st = lstatSync(path);
  if (st.isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), uid, gid);
  chownSync(path, uid, gid);
}

function copyInstruction(stage, ins, stages, ignored) {
  const flags = {};
  let rest = ins.args;
  for (let m = /^--([a-z]+)(?:=(\S+))?\s+/.exec(rest); m; m = /^--([a-z]+)(?:=(\S+))?\s+/.exec(rest)) {
    flags[m[1]] = m[2] ?? true;
    rest = rest.slice(m[0].length);
  }
  for (const f of Object.keys(flags)) {
    if (!['from', 'chown', 'chmod', 'link'].includes(f)) throw new Error(`COPY --${f} is not rehearsed (line ${ins.line})`);
  }
  const parts = words(substitute(rest, stageVars(stage)));
  const dest = parts.pop();
  let srcRoot;
  let sources;
  if (flags.from) {
    const from = stages.find((s) => s.name === flags.from) ?? stages[Number(flags.from)];
    if (!from) throw new Error(`COPY --from=${flags.from}: no such earlier stage (line ${ins.line})`);
    srcRoot = from.root;
    sources = parts.flatMap((p) => expand(srcRoot, posix.resolve(from.workdir, p).slice(1)));
  } else {
    srcRoot = CONTEXT;
    sources = [];
    for (const p of parts) {
      const pattern = posix.normalize(p).replace(/^\/+/, '');
      const matched = expand(CONTEXT, pattern);
      // A wildcard sees only what .dockerignore lets into the context; a path named outright
      // that it leaves out is an error in docker build, so here too.
      const visible = matched.filter((r) => !ignored(r) || (existsSync(join(CONTEXT, r)) && statSync(join(CONTEXT, r)).isDirectory()));
      if (matched.length > 0 && visible.length === 0 && !/[*?[]/.test(pattern)) {
        throw new RehearsalFailure(`COPY (line ${ins.line}): ${p} is excluded by .dockerignore`);
      }
      sources.push(...visible);
    }
  }
  if (sources.length === 0) throw new Error(`COPY (line ${ins.line}): no source matched ${parts.join(' ')}`);
  const destIsDir = dest.endsWith('/') || sources.length > 1;
  const destHost = inStage(stage, dest);
  const copied = [];
  for (const src of sources) {
    const from = join(srcRoot, src);
    if (!existsSync(from)) throw new Error(`COPY (line ${ins.line}): ${src} does not exist${flags.from ? ` in stage ${flags.from}` : ' in the context'}`);
    if (statSync(from).isDirectory()) {
      // A folder's contents go into dest (Docker's rule), through .dockerignore from the context.
      mkdirSync(destHost, { recursive: true });
      if (flags.from) {
        cpSync(from, destHost, { recursive: true });
        copied.push(destHost);
      } else {
        const files = walkFiles(CONTEXT, src, ignored, []);
        if (files.length === 0 && ignored(src)) throw new RehearsalFailure(`COPY (line ${ins.line}): ${src} is excluded by .dockerignore`);
        for (const f of files) {
          const to = join(destHost, posix.relative(src, f));
          mkdirSync(dirname(to), { recursive: true });
          copyFileSync(join(CONTEXT, f), to);
          copied.push(to);
        }
      }
    } else {
      const to = destIsDir ? join(destHost, posix.basename(src)) : destHost;
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
      copied.push(to);
    }
  }
  // COPY leaves root-owned files unless --chown says otherwise.
  const [uid, gid] = flags.chown ? userIds(flags.chown) : [0, 0];
  for (const p of copied) chownTree(p, uid, gid);
  if (flags.chmod) for (const p of copied) chmodSync(p, Number.parseInt(flags.chmod, 8));
  stage.copies++;
}

function userIds(spec) {
  const [u, g] = spec.split(':');
  const uid = /^\d+$/.test(u) ? Number(u) : IMAGE_USERS[u]?.[0];
  if (uid === undefined) throw new Error(`USER ${spec}: unknown user in the node image`);
  const gid = g === undefined ? (IMAGE_USERS[u]?.[1] ?? uid) : /^\d+$/.test(g) ? Number(g) : IMAGE_USERS[g]?.[1];
  if (gid === undefined) throw new Error(`USER ${spec}: unknown group in the node image`);
  return [uid, gid];
}

/** Absolute image paths of a filesystem step, glob-expanded inside the stage. */
function stagePaths(stage, list) {
  return list.trim().split(/\s+/).flatMap((p) => {
    if (!p.startsWith('/')) throw new Error(`relative path in a filesystem step: ${p}`);
    if (!/[*?[]/.test(p)) return [inStage(stage, p)];
    return expand(stage.root, p.slice(1)).map((r) => inStage(stage, `/${r}`));
  });
}

let nodeOnlyBin = '';

/** The environment of a RUN step or the container: the image's, never this machine's. */
function containerEnv(stage, extra = {}) {
  const [uid] = stage.user;
  const env = {
    PATH: stage.npmRemoved ? nodeOnlyBin : `${dirname(process.execPath)}:${IMAGE_PATH}`,
    HOME: inStage(stage, uid === 0 ? '/root' : '/home/node'),
    TMPDIR: inStage(stage, '/tmp'),
    // Empty at the start of every build: the npm cache of this machine is not the builder's.
    npm_config_cache: join(TMP, 'npm-cache'),
  };
  // Docker's predefined proxy build arguments pass through to RUN.
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']) {
    if (process.env[k]) env[k] = process.env[k];
  }
  for (const [k, v] of Object.entries(stageVars(stage))) {
    // Image paths in the environment (BIDDER_EVENTS_DIR=/var/lib/...) point into the stage.
    env[k] = /(_DIR|_FILE|^BIDDER_CONFIG)$/.test(k) && v.startsWith('/') ? inStage(stage, v) : v;
  }
  return { ...env, ...extra };
}

/** Settings that keep a node step on loopback ports of its own, whatever it does. */
let loopbackEnv = {};

/** Splits a shell command at its top-level `&&`, not at one inside quotes. */
function splitAnd(cmd) {
  const steps = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (quote === "'") {
      if (c === "'") quote = '';
    } else if (quote === '"') {
      if (c === '\\') cur += cmd[i++];
      else if (c === '"') quote = '';
    } else if (c === '\\') {
      cur += cmd[i++];
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '&' && cmd[i + 1] === '&') {
      steps.push(cur.trim());
      cur = '';
      i++;
      continue;
    }
    cur += c;
  }
  if (quote) throw new RehearsalFailure(`unterminated ${quote} in RUN ${cmd.slice(0, 60)}...`);
  steps.push(cur.trim());
  return steps;
}

/** A step as the summary shows it: on one line, long ones cut. */
function shown(step) {
  const one = step.replace(/\s+/g, ' ');
  return one.length > 72 ? `${one.slice(0, 69)}...` : one;
}

async function runInstruction(stage, ins) {
  const steps = splitAnd(ins.args);
  for (const step of steps) {
    let m;
    if (/^(npm|node)\s/.test(step)) {
      const [uid, gid] = stage.user;
      const sh = ['/bin/sh', '-c', step];
      const argv = uid === 0 && gid === 0 ? sh : [SETPRIV, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...sh];
      const isNode = step.startsWith('node ');
      log(`${stage.name}: RUN ${shown(step)}${uid !== 0 ? ` (as ${uid}:${gid})` : ''}`);
      const r = await run(argv, {
        cwd: inStage(stage, stage.workdir),
        env: containerEnv(stage, isNode ? loopbackEnv : {}),
        timeoutMs: isNode ? kCheckTimeoutMs : kStepTimeoutMs,
      });
      const as = uid !== 0 ? ` as ${uid}:${gid}` : '';
      if (r.timedOut) {
        check(`${stage.name}: RUN ${shown(step)}`, false, `did not exit within ${(isNode ? kCheckTimeoutMs : kStepTimeoutMs) / 1000} s${isNode && step.includes('--check') ? ' (does src/main.ts implement --check? a build step that serves forever would hang docker build)' : ''}`);
      }
      check(`${stage.name}: RUN ${shown(step)}`, r.code === 0, r.code === 0 ? `exit 0${as} in ${(r.ms / 1000).toFixed(1)} s` : `exit ${r.code ?? r.signal}${as}; last output:\n${r.out.trim().split('\n').slice(-15).join('\n')}`);
      stage.runs.push(step);
    } else if ((m = /^mkdir\s+-p\s+(.+)$/.exec(step))) {
      for (const p of stagePaths(stage, m[1])) mkdirSync(p, { recursive: true });
    } else if ((m = /^chown\s+(-R\s+)?(\d+):(\d+)\s+(.+)$/.exec(step))) {
      for (const p of stagePaths(stage, m[4])) {
        if (m[1]) chownTree(p, Number(m[2]), Number(m[3]));
        else chownSync(p, Number(m[2]), Number(m[3]));
      }
    } else if ((m = /^chmod\s+([0-7]{3,4})\s+(.+)$/.exec(step))) {
      for (const p of stagePaths(stage, m[2])) chmodSync(p, Number.parseInt(m[1], 8));
    } else if ((m = /^rm\s+-rf\s+(.+)$/.exec(step))) {
      const paths = m[1].trim().split(/\s+/);
      for (const p of stagePaths(stage, m[1])) rmSync(p, { recursive: true, force: true });
      // The base image's npm is this machine's npm; from here on, steps and the container
      // get a PATH holding node alone, so nothing later can lean on the package manager.
      if (paths.includes('/usr/local/bin/npm')) {
        stage.npmRemoved = true;
        note(`${stage.name}: npm removed from the image: later steps and the container run with node alone on PATH`);
      }
    } else {
      throw new RehearsalFailure(`RUN step (line ${ins.line}) is not one this rehearsal can perform: "${step}". ` +
        'Teach deploy/rehearse-image.mjs before shipping a Dockerfile it cannot check.');
    }
  }
}

// ---------------------------------------------------------------------------------------
// The run of the final stage

/** mode, owner, size and mtime of every path under `root`, but for `skip` (writable ones). */
function snapshot(root, skip) {
  const out = new Map();
  const walk = (p) => {
    if (skip.has(p)) return;
    const st = lstatSync(p);
    out.set(relative(root, p) || '.', `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '' : st.size} ${st.isDirectory() ? '' : st.mtimeMs}`);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(root);
  return out;
}

/** The read-only root filesystem: no write bit anywhere but in `skip`. */
function makeReadOnly(root, skip) {
  const walk = (p) => {
    if (skip.has(p)) return;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    chmodSync(p, st.mode & 0o7555);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(root);
}

/** The suites' "simple banner" request (test/helpers/simple-banner.json): the sample campaigns bid on it. */
const BID_REQUEST = JSON.stringify({
  ...JSON.parse(readFileSync(join(REPO, 'test/helpers/simple-banner.json'), 'utf8')),
  id: 'rehearse-image-1',
  tmax: 500,
});

async function runContainer(stage) {
  const [uid, gid] = stage.user;
  check(`${stage.name}: USER`, uid !== 0, `${uid}:${gid}`);
  if (!Array.isArray(stage.cmd)) throw new RehearsalFailure('the last stage has no exec-form CMD');

  // Secrets as deploy/k8s mounts them: owned by root, group fsGroup (1000), mode 0440.
  const secrets = inStage(stage, SECRET_DIR);
  mkdirSync(secrets, { recursive: true });
  const noticeKey = join(secrets, 'notice-key');
  const adminToken = join(secrets, 'admin-token');
  const token = randomBytes(32).toString('base64url');
  writeFileSync(noticeKey, randomBytes(48).toString('base64'));
  writeFileSync(adminToken, token);
  for (const f of [noticeKey, adminToken]) {
    chownSync(f, 0, gid);
    chmodSync(f, 0o440);
  }

  const writable = new Set([...stage.volumes.map((v) => inStage(stage, v)), inStage(stage, '/tmp')]);
  for (const v of stage.volumes) {
    const st = statSync(inStage(stage, v));
    check(`${stage.name}: VOLUME ${v}`, st.uid === uid || (st.mode & 0o002) !== 0,
      `owned by ${st.uid}:${st.gid}, mode ${(st.mode & 0o7777).toString(8)}${st.uid === uid ? ' (the runtime user owns it)' : ''}`);
  }
  makeReadOnly(stage.root, writable);
  const before = snapshot(stage.root, writable);

  // Nothing may write where the image is read-only: a probe as the runtime user.
  const probe = await run([SETPRIV, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', process.execPath, '-e',
    `try { require('fs').writeFileSync(${JSON.stringify(join(inStage(stage, stage.workdir), 'probe'))}, 'x'); console.log('WROTE'); } catch (e) { console.log(e.code); }`],
  { cwd: '/', env: { PATH: nodeOnlyBin }, timeoutMs: 30_000, stream: false });
  check(`${stage.name}: read-only app`, probe.out.trim() === 'EACCES', `a write into ${stage.workdir} as ${uid}:${gid} gives ${probe.out.trim() || probe.code}`);

  const cwd = inStage(stage, stage.workdir);
  const env = containerEnv(stage, {
    ...loopbackEnv,
    BIDDER_NOTICE_KEY_FILE: noticeKey,
    BIDDER_ADMIN_TOKEN_FILE: adminToken,
  });
  delete env.npm_config_cache; // the rehearsal's, not the image's
  const argv = [SETPRIV, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...stage.cmd];
  log(`${stage.name}: CMD ${JSON.stringify(stage.cmd)} as ${uid}:${gid}`);
  const started = Date.now();
  const child = spawnClean(argv, env, cwd);
  liveGroups.add(child.pid);
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const exited = new Promise((r) => child.on('exit', (code, signal) => {
    liveGroups.delete(child.pid);
    r({ code, signal, at: Date.now() });
  }));
  let exit = null;
  exited.then((e) => { exit = e; });
  const tail = () => out.trim().split('\n').slice(-20).join('\n');

  const opsPort = Number(loopbackEnv.BIDDER_OPS_PORT);
  const bidPort = Number(loopbackEnv.BIDDER_PORT);
  let ready = null;
  while (Date.now() - started < kReadyTimeoutMs && exit === null) {
    const r = await http(opsPort, 'GET', '/readyz');
    if (r.status === 200) {
      ready = Date.now() - started;
      break;
    }
    await sleep(200);
  }
  if (exit !== null) check(`${stage.name}: start`, false, `exited ${exit.code ?? exit.signal} before ready:\n${tail()}`);
  check(`${stage.name}: start`, ready !== null, ready !== null ? `/readyz 200 after ${ready} ms` : `not ready after ${kReadyTimeoutMs / 1000} s:\n${tail()}`);

  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/).map(Number) ?? [];
  const gids = /^Gid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/).map(Number) ?? [];
  const groups = /^Groups:[ \t]*(.*)$/m.exec(status)?.[1].trim() ?? '?';
  check(`${stage.name}: process user`, uids.every((u) => u === uid) && gids.every((g) => g === gid),
    `uid ${uids.join('/')}, gid ${gids.join('/')}, groups [${groups}] (${/^Name:\s+(.*)$/m.exec(status)?.[1]})`);

  const config = JSON.parse(/^bidder: configuration (\{.*\})$/m.exec(out)?.[1] ?? 'null');
  check(`${stage.name}: configuration`, config !== null && config.money.eventsDir === env.BIDDER_EVENTS_DIR,
    config ? `events in ${config.money.eventsDir}, drain ${config.server.drainTimeoutMs} ms, ${config.pool.threads} worker(s), ${config.server.acceptors} acceptor(s)` : 'no "bidder: configuration" line');

  const health = await http(opsPort, 'GET', '/healthz');
  const readyBid = await http(bidPort, 'GET', '/readyz');
  check(`${stage.name}: probes`, health.status === 200 && readyBid.status === 200, `ops /healthz ${health.status}, bid-port /readyz ${readyBid.status}`);

  const bid = await http(bidPort, 'POST', '/openrtb2/bid', {
    body: BID_REQUEST,
    headers: { 'content-type': 'application/json', 'x-openrtb-version': '2.6' },
  });
  let bidDetail = `POST /openrtb2/bid -> ${bid.status}`;
  if (bid.status === 200) {
    try {
      const b = JSON.parse(bid.body);
      const bids = (b.seatbid ?? []).flatMap((s) => s.bid ?? []);
      bidDetail += `, ${bids.length} bid(s)${bids[0] ? `, price ${bids[0].price}` : ''}`;
    } catch {
      bidDetail += ' (body is not JSON)';
    }
  }
  check(`${stage.name}: bid`, bid.status === 200 || bid.status === 204, bid.status === 200 || bid.status === 204 ? bidDetail : `${bidDetail}: ${bid.body.slice(0, 300)}`);

  const adminOk = await http(opsPort, 'GET', '/admin/models', { headers: { authorization: `Bearer ${token}` } });
  const adminNo = await http(opsPort, 'GET', '/admin/models');
  check(`${stage.name}: secrets`, adminOk.status === 200 && adminNo.status === 401,
    `admin token read from a root:${gid} 0440 file: /admin/models ${adminOk.status} with it, ${adminNo.status} without`);

  const metrics = await http(opsPort, 'GET', '/metrics');
  check(`${stage.name}: metrics`, metrics.status === 200 && metrics.body.includes('bidder_requests_total'), `/metrics ${metrics.status}, ${metrics.body.length} bytes`);

  const drainMs = config.server.drainTimeoutMs;
  const termAt = Date.now();
  child.kill('SIGTERM');
  const result = await Promise.race([exited, sleep(drainMs + kExitMarginMs).then(() => null)]);
  if (result === null) {
    check(`${stage.name}: SIGTERM`, false, `still running ${(drainMs + kExitMarginMs) / 1000} s after SIGTERM (drain ${drainMs} ms):\n${tail()}`);
  }
  check(`${stage.name}: SIGTERM`, result.code === 0 && out.includes('drained, exiting'),
    `exit ${result.code ?? result.signal} after ${result.at - termAt} ms (drain limit ${drainMs} ms)${out.includes('drained, exiting') ? ', "drained, exiting"' : `:\n${tail()}`}`);

  const after = snapshot(stage.root, writable);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  check(`${stage.name}: read-only root`, changed.length === 0,
    changed.length === 0 ? `${before.size} paths outside the volumes and /tmp unchanged` : `changed: ${changed.slice(0, 10).join(', ')}`);

  const events = [];
  for (const v of stage.volumes) {
    const dir = inStage(stage, v);
    for (const f of walkFiles(dir, '', () => false, [])) {
      const st = statSync(join(dir, f));
      events.push(`${posix.join(v, f)} (${st.size} bytes, ${st.uid}:${st.gid})`);
    }
  }
  check(`${stage.name}: event log`, events.length > 0, events.length > 0 ? `${events.length} file(s) in the volume: ${events.slice(0, 3).join(', ')}` : 'nothing written to the VOLUME');
}

// ---------------------------------------------------------------------------------------

let SETPRIV = '';
let ENV_TOOL = '';

async function main() {
  process.stdout.write(`rehearse-image: ${relative(process.cwd(), DOCKERFILE) || DOCKERFILE}, context ${CONTEXT}\n`);
  if (process.getuid?.() !== 0) throw new RehearsalFailure('must run as root (the app is root-owned and the bidder runs as another user)');
  SETPRIV = findTool('setpriv');
  if (!SETPRIV) throw new RehearsalFailure('setpriv (util-linux) not found');
  ENV_TOOL = findTool('env');
  if (!ENV_TOOL) throw new RehearsalFailure('env (coreutils) not found');

  const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const ignored = loadDockerignore(CONTEXT);
  TMP = mkdtempSync(join(tmpdir(), 'rehearse-image-'));
  chmodSync(TMP, 0o755); // the runtime user must reach its stage
  mkdirSync(join(TMP, 'npm-cache'));
  nodeOnlyBin = join(TMP, 'bin');
  mkdirSync(nodeOnlyBin);
  symlinkSync(process.execPath, join(nodeOnlyBin, 'node'));
  loopbackEnv = {
    BIDDER_HOST: '127.0.0.1',
    BIDDER_PORT: String(await freePort()),
    BIDDER_OPS_HOST: '127.0.0.1',
    BIDDER_OPS_PORT: String(await freePort()),
  };
  while (loopbackEnv.BIDDER_OPS_PORT === loopbackEnv.BIDDER_PORT) loopbackEnv.BIDDER_OPS_PORT = String(await freePort());

  const globalArgs = {};
  const stages = [];
  let stage = null;
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new RehearsalFailure(`FROM (line ${ins.line}): cannot parse "${ins.args}"`);
      const image = substitute(m[1], globalArgs);
      if (stages.some((s) => s.name === image)) throw new RehearsalFailure(`FROM ${image}: a stage as base is not rehearsed`);
      const img = /^(?:docker\.io\/(?:library\/)?)?node:(\d+)(?:\.(\d+))?(?:\.(\d+))?-([a-z]+)(-slim)?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
      if (!img) throw new RehearsalFailure(`FROM ${image}: only the official node:<version>-<debian>[-slim] images are rehearsed`);
      const [major, minor, patch] = process.versions.node.split('.');
      if (img[1] !== major) throw new RehearsalFailure(`FROM ${image}: Node ${img[1]} in the image, ${process.versions.node} here: another ABI, nothing to rehearse`);
      stage = newStage(m[2], image, stages.length);
      stages.push(stage);
      const exact = (img[2] === undefined || img[2] === minor) && (img[3] === undefined || img[3] === patch);
      const glibc = process.report.getReport().header.glibcVersionRuntime;
      check(`${m[2] ?? `stage ${stages.length - 1}`}: FROM`, true,
        `${image} on Node v${process.versions.node}${exact ? '' : ' (not the image\'s exact release)'}, glibc ${glibc} here, ${DEBIAN_GLIBC[img[4]] ?? '?'} in ${img[4]}`);
      continue;
    }
    if (stage === null) {
      if (ins.keyword !== 'ARG') throw new RehearsalFailure(`${ins.keyword} before FROM`);
      for (const [k, v] of parsePairs(ins.args)) globalArgs[k] = v ?? '';
      continue;
    }
    const vars = stageVars(stage);
    switch (ins.keyword) {
      case 'ARG':
        for (const [k, v] of parsePairs(ins.args)) stage.args[k] = v !== undefined ? substitute(v, vars) : globalArgs[k] ?? '';
        break;
      case 'ENV':
        for (const [k, v] of parsePairs(ins.args)) stage.env[k] = substitute(v ?? '', vars);
        break;
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, substitute(ins.args, vars));
        mkdirSync(inStage(stage, stage.workdir), { recursive: true });
        break;
      case 'COPY':
        copyInstruction(stage, ins, stages, ignored);
        break;
      case 'RUN':
        if (/^\[/.test(ins.args)) throw new RehearsalFailure(`RUN in exec form (line ${ins.line}) is not rehearsed`);
        if (/^--/.test(ins.args)) throw new RehearsalFailure(`RUN flags (line ${ins.line}) are not rehearsed`);
        await runInstruction(stage, ins);
        break;
      case 'USER':
        stage.user = userIds(substitute(ins.args, vars));
        break;
      case 'VOLUME':
        stage.volumes.push(...words(substitute(ins.args, vars)));
        break;
      case 'CMD':
        stage.cmd = ins.args.trim().startsWith('[') ? JSON.parse(ins.args) : ins.args;
        break;
      case 'LABEL':
      case 'EXPOSE':
      case 'STOPSIGNAL':
      case 'HEALTHCHECK':
      case 'MAINTAINER':
        break; // metadata: nothing to rehearse (the Dockerfile test checks it)
      default:
        throw new RehearsalFailure(`${ins.keyword} (line ${ins.line}) is not rehearsed`);
    }
  }
  if (stages.length === 0) throw new RehearsalFailure('no FROM in the Dockerfile');
  for (const s of stages) {
    note(`${s.name}: ${s.copies} COPY, RUN ${s.runs.map((r) => `\`${shown(r)}\``).join(', ') || 'none'}`);
  }
  const last = stages[stages.length - 1];
  const appBytes = du(inStage(last, last.workdir));
  note(`${last.name}: ${last.workdir} holds ${(appBytes / 1048576).toFixed(1)} MiB (node_modules ${(du(inStage(last, posix.join(last.workdir, 'node_modules'))) / 1048576).toFixed(1)} MiB)`);
  await runContainer(last);
}

function du(p) {
  if (!existsSync(p)) return 0;
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(p)) n += du(join(p, e));
  return n;
}

const started = Date.now();
main().then(
  () => {
    process.stdout.write(`rehearse-image: PASS (${results.length} checks in ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    cleanup();
    process.exit(0);
  },
  (err) => {
    if (!(err instanceof RehearsalFailure)) process.stdout.write(`FAIL rehearsal: ${err.stack ?? err.message}\n`);
    else if (!results.some((r) => !r.ok)) process.stdout.write(`FAIL rehearsal: ${err.message}\n`);
    process.stdout.write(`rehearse-image: FAIL (${results.filter((r) => r.ok).length} checks passed before the failure)\n`);
    cleanup();
    process.exit(1);
  },
);
