import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildReference, headCommit, resolveCommit } from '../../bench/gate/reference';

const projectModules = resolve(__dirname, '../../node_modules');

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A tiny repository shaped like this one: tsconfig, src/main.ts, node_modules linked (ignored). */
function repo(t: Tap.Test): { dir: string; commit: (main: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'gate-ref-repo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: '.', module: 'commonjs', target: 'ES2022', strict: true }, include: ['src/**/*.ts'] }));
  writeFileSync(join(dir, '.gitignore'), 'node_modules\ndist\n');
  symlinkSync(projectModules, join(dir, 'node_modules'), 'dir');
  git(dir, 'init', '-q');
  return {
    dir,
    commit(main: string): string {
      writeFileSync(join(dir, 'src/main.ts'), main);
      git(dir, 'add', '-A');
      git(dir, 'commit', '-qm', 'c');
      return git(dir, 'rev-parse', 'HEAD');
    },
  };
}

t.test('builds the committed code, not the working tree', async (t) => {
  const { dir, commit } = repo(t);
  const old = commit('export const version: number = 1;\n');
  commit('export const version: number = 2;\n');
  writeFileSync(join(dir, 'src/main.ts'), 'export const version: number = 3;\n');
  const built = buildReference(dir, old);
  if (!built.ok) throw new Error(built.reason);
  t.teardown(built.cleanup);
  t.equal(built.commit, old);
  t.match(readFileSync(join(built.root, 'dist/src/main.js'), 'utf8'), /version = 1;/);
  built.cleanup();
  t.notOk(existsSync(built.root), 'cleanup removes the build');
});

t.test('an unknown commit, a malformed one, or one that does not compile is unavailable, with the reason', async (t) => {
  const { dir, commit } = repo(t);
  commit('export const ok = 1;\n');
  const missing = buildReference(dir, 'deadbeefdeadbeef');
  t.notOk(missing.ok);
  t.match(!missing.ok && missing.reason, /not in this clone/);
  const malformed = buildReference(dir, '--upload-pack=x');
  t.match(!malformed.ok && malformed.reason, /not a commit id/);
  const broken = commit('export const n: number = "not a number";\n');
  const r = buildReference(dir, broken);
  t.notOk(r.ok);
  t.match(!r.ok && r.reason, /does not build/);
});

t.test('headCommit refuses a tree whose code differs from HEAD', async (t) => {
  const { dir, commit } = repo(t);
  const head = commit('export const a = 1;\n');
  t.same(headCommit(dir, ['src']), { ok: true, commit: head });
  writeFileSync(join(dir, 'src/main.ts'), 'export const a = 2;\n');
  const dirty = headCommit(dir, ['src']);
  t.notOk(dirty.ok);
  t.match(!dirty.ok && dirty.reason, /uncommitted changes/);
  t.ok(headCommit(dir, ['docs']).ok, 'changes outside the code paths do not count');
  t.notOk(headCommit(tmpdir(), ['src']).ok, 'outside a git checkout');
});

t.test('resolveCommit turns a short id or a branch into the full id (--twin-commit)', async (t) => {
  const { dir, commit } = repo(t);
  const full = commit('export const a = 1;\n');
  t.same(resolveCommit(dir, full.slice(0, 7)), { ok: true, commit: full });
  t.same(resolveCommit(dir, 'HEAD'), { ok: true, commit: full });
  const none = resolveCommit(dir, 'deadbeef');
  t.match(!none.ok && none.reason, /no commit "deadbeef"/);
  const option = resolveCommit(dir, '--all');
  t.match(!option.ok && option.reason, /not a commit name/);
});
