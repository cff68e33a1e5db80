/**
 * The gate's reference bidder: the bidder as it was at the commit the baseline was
 * measured on, built into a temporary folder and measured in the same run as the bidder
 * under test. Ratios to the ceiling and the peers shift from one machine to another
 * (a host with dearer system calls or thread wake-ups moves the bidder against a
 * single-threaded peer by tens of percent with no code change); the bidder against its
 * own past self on the same machine, in the same minutes, does not. That figure is the
 * one that catches a regression wherever CI happens to run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ReferenceBuild = { ok: true; root: string; commit: string; cleanup: () => void } | { ok: false; reason: string };

function git(root: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || String(r.error ?? '') };
}

/** The commit the working tree's code is at, or why it cannot stand as a reference. */
export function headCommit(root: string, codePaths: readonly string[]): { ok: true; commit: string } | { ok: false; reason: string } {
  const head = git(root, ['rev-parse', 'HEAD']);
  if (!head.ok) return { ok: false, reason: `not a git checkout (${head.out})` };
  const dirty = git(root, ['status', '--porcelain', '--', ...codePaths]);
  if (!dirty.ok) return { ok: false, reason: dirty.out };
  if (dirty.out !== '') return { ok: false, reason: `uncommitted changes in the bidder's code:\n${dirty.out}\ncommit them first, so the baseline's reference commit holds the code that was measured` };
  return { ok: true, commit: head.out };
}

/** The full commit id a name (a short id, a branch, a tag) stands for in the repository at `root`. */
export function resolveCommit(root: string, name: string): { ok: true; commit: string } | { ok: false; reason: string } {
  if (name.startsWith('-')) return { ok: false, reason: `not a commit name: ${JSON.stringify(name)}` };
  const r = git(root, ['rev-parse', '--verify', '--quiet', `${name}^{commit}`]);
  return r.ok ? { ok: true, commit: r.out } : { ok: false, reason: `no commit ${JSON.stringify(name)} in this clone (a shallow clone? fetch it)` };
}

/**
 * Builds `commit` of the repository at `root` into a temporary folder: its files from git,
 * this checkout's node_modules (linked, not installed: a reference whose dependencies
 * differ builds or runs wrongly and is reported as unavailable), compiled with tsc.
 */
export function buildReference(root: string, commit: string): ReferenceBuild {
  if (!/^[0-9a-f]{7,40}$/.test(commit)) return { ok: false, reason: `not a commit id: ${JSON.stringify(commit)}` };
  const found = git(root, ['cat-file', '-e', `${commit}^{commit}`]);
  if (!found.ok) return { ok: false, reason: `commit ${commit} is not in this clone (a shallow clone? fetch it): ${found.out}` };
  const dir = mkdtempSync(join(tmpdir(), 'bidder-reference-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const tar = join(dir, 'ref.tar');
  const steps: [string, string[]][] = [
    ['git', ['-C', root, 'archive', '--format=tar', '-o', tar, commit]],
    ['tar', ['-xf', tar, '-C', dir]],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) {
      cleanup();
      return { ok: false, reason: `${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}` };
    }
  }
  rmSync(tar);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
  if (tsc.status !== 0 || !existsSync(join(dir, 'dist/src/main.js'))) {
    cleanup();
    return { ok: false, reason: `the reference commit ${commit} does not build: ${(tsc.stdout || tsc.stderr || String(tsc.error)).slice(0, 2000)}` };
  }
  return { ok: true, root: dir, commit, cleanup };
}
