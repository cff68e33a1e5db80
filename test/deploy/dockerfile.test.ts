/**
 * The shape of deploy/Dockerfile, read by a small parser of its own (no docker here): two
 * stages on the official Node 20 Debian image, a production-only install in the runtime
 * stage, the build output copied from the build stage, a non-root user, the event log as
 * the one writable folder, the build-time --check, an exec-form CMD, both ports. Each rule
 * is shown to fail on a Dockerfile that breaks it, so none of them passes by accident.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { defaultConfig, ENV_VARS } from '../../src/config/config';

const REPO = resolve(__dirname, '../..');
const DOCKERFILE = readFileSync(join(REPO, 'deploy/Dockerfile'), 'utf8');
const DOCKERIGNORE = readFileSync(join(REPO, '.dockerignore'), 'utf8');
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const CONFIG = defaultConfig('/app', { cpus: 2 });

// ---------------------------------------------------------------------------------------
// Parser

interface Instruction {
  keyword: string;
  /** The arguments after the flags (--from=, --chown=, ...), continuations joined. */
  args: string;
  flags: Record<string, string>;
  line: number;
}

interface Stage {
  name: string | null;
  /** The base image, global ARGs substituted. */
  image: string;
  instructions: Instruction[];
}

interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Docker's rules: comment lines dropped (also inside a continued instruction), `\` joins lines. */
function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let buf = '';
  let start = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*#/.test(line)) continue;
    if (buf === '' && line.trim() === '') continue;
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(buf);
    if (!m) throw new Error(`line ${start}: not an instruction: ${buf.trim()}`);
    let rest = m[2].trim();
    const flags: Record<string, string> = {};
    for (let f = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); f; f = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
      flags[f[1]] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
    instructions.push({ keyword: m[1].toUpperCase(), args: rest, flags, line: start });
    buf = '';
  }
  if (buf.trim() !== '') throw new Error('the Dockerfile ends inside a continued line');

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ name: m[2] ?? null, image: substitute(m[1], globalArgs), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      for (const [k, v] of pairs(ins.args)) globalArgs[k] = v ?? '';
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function substitute(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{([A-Za-z_]\w*)(?::-([^}]*))?\}|\$([A-Za-z_]\w*)/g, (_, a: string, dflt: string | undefined, b: string) => {
    const v = vars[a ?? b];
    return v !== undefined && v !== '' ? v : dflt ?? '';
  });
}

/** `K=V K2="v w"` (or the legacy `K V`). */
function pairs(s: string): Array<[string, string | undefined]> {
  if (!/^[A-Za-z_][\w.-]*=/.test(s)) {
    const sp = s.indexOf(' ');
    return sp < 0 ? [[s, undefined]] : [[s.slice(0, sp), s.slice(sp + 1).trim()]];
  }
  const out: Array<[string, string]> = [];
  const re = /([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    let v = m[2];
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1], v]);
  }
  return out;
}

/** Exec-form JSON array, or null for the shell form. */
function execForm(args: string): string[] | null {
  if (!args.trim().startsWith('[')) return null;
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

function listArgs(args: string): string[] {
  return execForm(args) ?? args.trim().split(/\s+/).filter(Boolean);
}

// ---------------------------------------------------------------------------------------
// .dockerignore with Docker's rules: a pattern excludes a path when it matches the path or
// one of its parent folders; `!` re-includes; the last matching line decides.

function dockerignore(text: string): (path: string) => boolean {
  const rules: Array<{ negate: boolean; re: RegExp }> = [];
  for (const raw of text.split(/\r?\n/)) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1).trim();
    p = posix.normalize(p.replace(/^\/+/, '')).replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '*' && p[i + 1] === '*') {
        if (p[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else if (p[i] === '*') re += '[^/]*';
      else if (p[i] === '?') re += '[^/]';
      else re += p[i].replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    rules.push({ negate, re: new RegExp(`^${re}$`) });
  }
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

// ---------------------------------------------------------------------------------------
// The rules

const OFFICIAL_NODE_20_DEBIAN = /^(?:docker\.io\/(?:library\/)?)?node:20(?:\.\d+){0,2}-bookworm(?:-slim)?(?:@sha256:[0-9a-f]{64})?$/;
const EVENTS_ENV = 'BIDDER_EVENTS_DIR';

interface CheckOptions {
  dockerignore?: string;
  packageVersion?: string;
}

/** Every rule the Dockerfile breaks, one message each; [] when it is in shape. */
function dockerfileProblems(text: string, opts: CheckOptions = {}): string[] {
  const problems: string[] = [];
  let df: Dockerfile;
  try {
    df = parseDockerfile(text);
  } catch (err) {
    return [`parse: ${(err as Error).message}`];
  }
  const { stages } = df;
  if (stages.length < 2) problems.push(`stages: ${stages.length}, want a build stage and a runtime stage`);
  const names = stages.map((s) => s.name).filter((n): n is string => n !== null);
  if (new Set(names).size !== names.length) problems.push('stages: two stages share a name');
  for (const s of stages) {
    if (!OFFICIAL_NODE_20_DEBIAN.test(s.image)) problems.push(`FROM ${s.image || '(empty)'}: not the official node:20 Debian bookworm image`);
  }
  if (new Set(stages.map((s) => s.image)).size > 1) problems.push(`FROM: stages on different bases (${[...new Set(stages.map((s) => s.image))].join(', ')}); the runtime must be what was built and checked`);

  for (const s of stages) {
    for (const ins of s.instructions) {
      // A command (not a path such as /usr/local/bin/yarn) that resolves versions afresh.
      if (ins.keyword === 'RUN' && /(?:^|&&|\|\||;|\|)\s*(?:npm\s+(?:install|i|add|update)\b|yarn(?:\s|$)|pnpm\s)/.test(ins.args)) {
        problems.push(`RUN (line ${ins.line}): installs without the lockfile (use npm ci): ${ins.args.slice(0, 60)}`);
      }
      if (ins.keyword === 'ADD') problems.push(`ADD (line ${ins.line}): use COPY (ADD fetches URLs and unpacks archives)`);
      if ((ins.keyword === 'ARG' || ins.keyword === 'ENV') && pairs(ins.args).some(([k]) => /SECRET|PASSWORD|TOKEN$|_KEY$|APIKEY/i.test(k))) {
        problems.push(`${ins.keyword} (line ${ins.line}): a secret in a build argument or environment variable stays in the image; mount it at run time`);
      }
      if (ins.keyword === 'ENV') {
        for (const [k] of pairs(ins.args)) {
          if (k.startsWith('BIDDER_') && k !== 'BIDDER_CONFIG' && !(k in ENV_VARS)) problems.push(`ENV ${k} (line ${ins.line}): not a bidder variable; the bidder refuses to start on an unknown BIDDER_*`);
        }
      }
    }
    // .npmrc (onnxruntime-node-install=skip) must be in place before any npm ci of the stage.
    const ci = s.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm\s+ci\b/.test(i.args));
    if (ci >= 0) {
      const npmrc = s.instructions.findIndex((i) => i.keyword === 'COPY' && !i.flags.from && listArgs(i.args).slice(0, -1).includes('.npmrc'));
      if (npmrc < 0 || npmrc > ci) problems.push(`stage ${s.name}: npm ci before .npmrc is copied (onnxruntime-node would download CUDA files)`);
    }
  }
  if (stages.length === 0) return problems;

  const final = stages[stages.length - 1];
  const ins = final.instructions;
  const at = (pred: (i: Instruction) => boolean): number => ins.findIndex(pred);
  const all = (kw: string): Instruction[] => ins.filter((i) => i.keyword === kw);
  const earlier = new Set(stages.slice(0, -1).map((s) => s.name).filter(Boolean));

  const env: Record<string, string> = {};
  for (const e of all('ENV')) for (const [k, v] of pairs(e.args)) env[k] = v ?? '';
  if (env.NODE_ENV !== 'production') problems.push('runtime: ENV NODE_ENV=production missing');
  const workdir = all('WORKDIR').at(-1)?.args;
  if (!workdir || !workdir.startsWith('/')) problems.push('runtime: no absolute WORKDIR');

  const ciProd = at((i) => i.keyword === 'RUN' && /\bnpm\s+ci\b[^&;|]*--omit=dev\b/.test(i.args));
  if (ciProd < 0) problems.push('runtime: no RUN npm ci --omit=dev (production dependencies only)');
  if (all('RUN').some((i) => /\bnpm\s+ci\b/.test(i.args) && !/--omit=dev\b/.test(i.args))) problems.push('runtime: an npm ci without --omit=dev installs devDependencies into the image');
  const fromBuild = at((i) => i.keyword === 'COPY' && earlier.has(i.flags.from) && listArgs(i.args).slice(0, -1).some((a) => /(^|\/)dist(\/|$)/.test(a)));
  if (fromBuild < 0) problems.push('runtime: no COPY --from=<build stage> of dist/ (the compiled code)');
  for (const r of all('RUN')) {
    if (/\b(apt-get|apt|apk|dpkg|yum|dnf)\b|\b(gcc|g\+\+|make|python3?|build-essential|curl|wget)\b/.test(r.args)) {
      problems.push(`runtime: RUN (line ${r.line}) installs or uses system tools: ${r.args.slice(0, 60)}`);
    }
  }

  const users = all('USER');
  const cmdAt = at((i) => i.keyword === 'CMD');
  const lastUser = users.at(-1);
  if (!lastUser) {
    problems.push('runtime: no USER (the container would run as root)');
  } else {
    const [u, g] = lastUser.args.trim().split(':');
    if (u === 'root' || u === '0' || g === '0' || g === 'root') problems.push(`runtime: USER ${lastUser.args} is root`);
    else if (!/^\d+$/.test(u) && u !== 'node') problems.push(`runtime: USER ${lastUser.args}: the node image has no such user (numeric or node)`);
    if (cmdAt >= 0 && ins.indexOf(lastUser) > cmdAt) problems.push('runtime: USER comes after CMD');
  }
  const runtimeUid = lastUser ? (lastUser.args.split(':')[0] === 'node' ? '1000' : lastUser.args.split(':')[0]) : '';

  const volumes = all('VOLUME').flatMap((v) => listArgs(v.args));
  const eventsDir = env[EVENTS_ENV];
  if (!eventsDir) problems.push(`runtime: no ENV ${EVENTS_ENV} (the event log would go to /app/events, inside the read-only app)`);
  else if (!volumes.includes(eventsDir)) problems.push(`runtime: ${EVENTS_ENV}=${eventsDir} is not a VOLUME (${volumes.join(', ') || 'none'})`);
  if (eventsDir) {
    const volAt = at((i) => i.keyword === 'VOLUME' && listArgs(i.args).includes(eventsDir));
    const chownAt = at((i) => i.keyword === 'RUN' && new RegExp(`\\bchown\\s+(-R\\s+)?(${runtimeUid}|node)(:\\S+)?\\s+([^&]*\\s)?${eventsDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(\\s|$)`).test(i.args));
    if (chownAt < 0 || (volAt >= 0 && chownAt > volAt)) problems.push(`runtime: ${eventsDir} is not given to the runtime user (${runtimeUid}) before VOLUME`);
  }
  if (eventsDir && workdir && (eventsDir + '/').startsWith(workdir.replace(/\/?$/, '/'))) problems.push(`runtime: the event log ${eventsDir} is inside the app folder ${workdir}`);

  const checkAt = at((i) => i.keyword === 'RUN' && /^node\s+dist\/src\/main\.js\s+--check$/.test(i.args.trim()));
  if (checkAt < 0) problems.push('runtime: no RUN node dist/src/main.js --check (the build must prove the native binaries load)');
  else {
    if (fromBuild >= 0 && checkAt < fromBuild) problems.push('runtime: --check runs before the compiled code is copied');
    if (!lastUser || checkAt < ins.indexOf(lastUser)) problems.push('runtime: --check does not run as the runtime user');
  }

  const cmds = all('CMD');
  const cmd = cmds.length > 0 ? execForm(cmds[cmds.length - 1].args) : null;
  if (cmds.length === 0) problems.push('runtime: no CMD');
  else if (!cmd) problems.push('runtime: CMD in shell form (sh would be PID 1 and SIGTERM would not reach node)');
  else if (cmd[0] !== 'node' || cmd[1] !== 'dist/src/main.js') problems.push(`runtime: CMD ${JSON.stringify(cmd)} is not node dist/src/main.js`);
  if (all('ENTRYPOINT').length > 0) problems.push('runtime: ENTRYPOINT set (CMD alone keeps node PID 1 and the command overridable)');

  const exposed = all('EXPOSE').flatMap((e) => listArgs(e.args)).map((p) => Number(p.split('/')[0]));
  for (const [what, port] of [['server.port', CONFIG.server.port], ['server.opsPort', CONFIG.server.opsPort]] as const) {
    if (!exposed.includes(port)) problems.push(`runtime: EXPOSE lacks ${port} (${what})`);
  }
  const stop = all('STOPSIGNAL').at(-1)?.args.trim();
  if (stop !== undefined && stop !== 'SIGTERM') problems.push(`runtime: STOPSIGNAL ${stop}; the bidder drains on SIGTERM`);

  if (opts.packageVersion !== undefined) {
    const version = all('ARG').flatMap((a) => pairs(a.args)).find(([k]) => k === 'VERSION')?.[1];
    if (version !== opts.packageVersion) problems.push(`runtime: ARG VERSION=${version} but package.json says ${opts.packageVersion}`);
    const labels = all('LABEL').map((l) => l.args).join(' ');
    for (const key of ['title', 'version', 'revision', 'licenses', 'source']) {
      if (!labels.includes(`org.opencontainers.image.${key}=`)) problems.push(`runtime: LABEL org.opencontainers.image.${key} missing`);
    }
  }

  if (opts.dockerignore !== undefined) {
    const ignored = dockerignore(opts.dockerignore);
    for (const s of stages) {
      for (const c of s.instructions.filter((i) => i.keyword === 'COPY' && !i.flags.from)) {
        for (const src of listArgs(c.args).slice(0, -1)) {
          // A wildcard source is checked on a name it would match.
          const probe = src.replace(/\*/g, 'x');
          if (ignored(posix.normalize(probe))) problems.push(`.dockerignore: excludes ${src}, which COPY (line ${c.line}) needs`);
        }
      }
    }
    for (const path of ['node_modules/x/index.js', 'dist/src/main.js', 'events/events-1.fbl', '.git/HEAD', 'profiles/run-1/cpu.cpuprofile', 'bench/results/gate-latest.json', 'src/node_modules/x.js', '.env', 'test/helpers/requests.ts']) {
      if (!ignored(path)) problems.push(`.dockerignore: lets ${path} into the build context`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------

t.test('deploy/Dockerfile is in shape', async (t) => {
  t.same(dockerfileProblems(DOCKERFILE, { dockerignore: DOCKERIGNORE, packageVersion: PACKAGE_VERSION }), []);
  const df = parseDockerfile(DOCKERFILE);
  t.same(df.stages.map((s) => s.name), ['build', 'runtime']);
  t.match(df.stages[0].image, /^node:20\.\d+\.\d+-bookworm-slim$/, 'pinned to a patch release');
});

t.test('the parser joins continuations, drops comments inside them, reads flags and stages', async (t) => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    'ARG BASE=node:20-bookworm-slim',
    'FROM ${BASE} AS one',
    'RUN a \\',
    '# a comment inside the continuation',
    '    && b',
    '',
    'from $BASE as two',
    'COPY --from=one --chown=1000:1000 /x /y',
    'CMD ["node", "x.js"]',
  ].join('\n'));
  t.same(df.globalArgs, { BASE: 'node:20-bookworm-slim' });
  t.same(df.stages.map((s) => [s.name, s.image]), [['one', 'node:20-bookworm-slim'], ['two', 'node:20-bookworm-slim']]);
  t.equal(df.stages[0].instructions[0].args.replace(/\s+/g, ' '), 'a && b');
  t.same(df.stages[1].instructions[0].flags, { from: 'one', chown: '1000:1000' });
  t.equal(df.stages[1].instructions[0].args, '/x /y');
  t.same(execForm(df.stages[1].instructions[1].args), ['node', 'x.js']);
  t.throws(() => parseDockerfile('FROM node:20 AS a\nRUN a \\'), /ends inside a continued line/);
});

t.test('the .dockerignore matcher follows Docker: parents, exceptions, last match wins', async (t) => {
  const ignored = dockerignore('*\n!src\n!models/*.onnx\n**/node_modules\n');
  t.equal(ignored('src/a.ts'), false);
  t.equal(ignored('src/node_modules/x.js'), true);
  t.equal(ignored('models/a.onnx'), false);
  t.equal(ignored('models/a.ts'), true);
  t.equal(ignored('README.md'), true);
});

/**
 * Each mutation of the real Dockerfile breaks one rule, and the checker must name it. The
 * replacement must apply, so a mutation cannot go stale unnoticed when the file changes.
 */
const MUTATIONS: Array<{ rule: string; from: string | RegExp; to: string; expect: RegExp }> = [
  { rule: 'one stage', from: /FROM \$\{NODE_IMAGE\} AS runtime/, to: '', expect: /stages: 1/ },
  { rule: 'not node', from: 'ARG NODE_IMAGE=node:20.20.2-bookworm-slim', to: 'ARG NODE_IMAGE=ubuntu:24.04', expect: /FROM ubuntu:24\.04: not the official node:20/ },
  { rule: 'node 22', from: 'FROM ${NODE_IMAGE} AS runtime', to: 'FROM node:22-bookworm-slim AS runtime', expect: /FROM node:22-bookworm-slim: not the official node:20/ },
  { rule: 'alpine', from: 'FROM ${NODE_IMAGE} AS build', to: 'FROM node:20-alpine AS build', expect: /node:20-alpine: not the official/ },
  { rule: 'npm install', from: 'RUN npm ci --no-audit --no-fund', to: 'RUN npm install', expect: /installs without the lockfile/ },
  { rule: 'dev deps in runtime', from: 'npm ci --omit=dev --no-audit', to: 'npm ci --no-audit', expect: /no RUN npm ci --omit=dev/ },
  { rule: '.npmrc late', from: 'COPY package.json package-lock.json .npmrc ./\nRUN npm ci --no-audit', to: 'COPY package.json package-lock.json ./\nRUN npm ci --no-audit', expect: /stage build: npm ci before \.npmrc/ },
  { rule: 'no COPY --from', from: 'COPY --from=build /app/dist ./dist', to: 'COPY dist ./dist', expect: /no COPY --from=<build stage> of dist/ },
  { rule: 'apt-get', from: 'ENV NODE_ENV=production', to: 'ENV NODE_ENV=production\nRUN apt-get update && apt-get install -y build-essential', expect: /installs or uses system tools/ },
  { rule: 'no NODE_ENV', from: 'ENV NODE_ENV=production', to: '', expect: /NODE_ENV=production missing/ },
  { rule: 'root user', from: 'USER 1000:1000', to: 'USER root', expect: /USER root is root/ },
  { rule: 'uid 0', from: 'USER 1000:1000', to: 'USER 0', expect: /USER 0 is root/ },
  { rule: 'no user', from: 'USER 1000:1000', to: '', expect: /no USER/ },
  { rule: 'no volume', from: 'VOLUME ["/var/lib/rtb-bidder/events"]', to: '', expect: /is not a VOLUME/ },
  { rule: 'events env elsewhere', from: 'ENV BIDDER_EVENTS_DIR=/var/lib/rtb-bidder/events', to: 'ENV BIDDER_EVENTS_DIR=/data/events', expect: /BIDDER_EVENTS_DIR=\/data\/events is not a VOLUME/ },
  { rule: 'no events env', from: 'ENV BIDDER_EVENTS_DIR=/var/lib/rtb-bidder/events', to: '', expect: /no ENV BIDDER_EVENTS_DIR/ },
  { rule: 'events not chowned', from: ' && chown 1000:1000 /var/lib/rtb-bidder/events \\\n', to: ' \\\n', expect: /not given to the runtime user/ },
  { rule: 'unknown variable', from: 'ENV NODE_ENV=production', to: 'ENV NODE_ENV=production BIDDER_THREADS=4', expect: /ENV BIDDER_THREADS .*unknown BIDDER_/ },
  { rule: 'secret in ENV', from: 'ENV NODE_ENV=production', to: 'ENV NODE_ENV=production NOTICE_KEY=abc', expect: /a secret in a build argument/ },
  { rule: 'no --check', from: 'RUN node dist/src/main.js --check', to: '', expect: /no RUN node dist\/src\/main\.js --check/ },
  { rule: '--check as root', from: /USER 1000:1000\n([\s\S]*?)(RUN node dist\/src\/main\.js --check)/, to: '$2\nUSER 1000:1000\n$1', expect: /--check does not run as the runtime user/ },
  { rule: 'shell-form CMD', from: 'CMD ["node", "dist/src/main.js"]', to: 'CMD node dist/src/main.js', expect: /CMD in shell form/ },
  { rule: 'npm start', from: 'CMD ["node", "dist/src/main.js"]', to: 'CMD ["npm", "start"]', expect: /is not node dist\/src\/main\.js/ },
  { rule: 'entrypoint', from: 'CMD ["node", "dist/src/main.js"]', to: 'ENTRYPOINT ["/bin/sh", "-c"]\nCMD ["node", "dist/src/main.js"]', expect: /ENTRYPOINT set/ },
  { rule: 'ops port', from: 'EXPOSE 8080 9090', to: 'EXPOSE 8080', expect: /EXPOSE lacks 9090/ },
  { rule: 'bid port', from: 'EXPOSE 8080 9090', to: 'EXPOSE 9090', expect: /EXPOSE lacks 8080/ },
  { rule: 'stop signal', from: 'STOPSIGNAL SIGTERM', to: 'STOPSIGNAL SIGKILL', expect: /STOPSIGNAL SIGKILL/ },
  { rule: 'version label', from: 'ARG VERSION=0.1.0', to: 'ARG VERSION=9.9.9', expect: /ARG VERSION=9\.9\.9 but package\.json/ },
  { rule: 'ADD', from: 'COPY tsconfig.json ./', to: 'ADD tsconfig.json ./', expect: /ADD \(line \d+\): use COPY/ },
];

t.test('every rule fails on a Dockerfile that breaks it', async (t) => {
  for (const m of MUTATIONS) {
    const bad = DOCKERFILE.replace(m.from, m.to);
    t.not(bad, DOCKERFILE, `${m.rule}: the mutation applies to the current Dockerfile`);
    const problems = dockerfileProblems(bad, { dockerignore: DOCKERIGNORE, packageVersion: PACKAGE_VERSION });
    t.ok(problems.some((p) => m.expect.test(p)), `${m.rule}: ${m.expect} in ${JSON.stringify(problems)}`);
  }
});

t.test('a .dockerignore that lets too much in, or keeps a COPY source out, is refused', async (t) => {
  const denyList = 'node_modules\ndist\n';
  const open = dockerfileProblems(DOCKERFILE, { dockerignore: denyList });
  t.ok(open.some((p) => /lets events\/events-1\.fbl into the build context/.test(p)), JSON.stringify(open));
  t.ok(open.some((p) => /lets \.git\/HEAD into/.test(p)));
  const missing = DOCKERIGNORE.replace('!native-models/*.onnx\n', '');
  t.not(missing, DOCKERIGNORE);
  t.ok(dockerfileProblems(DOCKERFILE, { dockerignore: missing }).some((p) => /excludes native-models\/\*\.onnx/.test(p)));
});
