import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, from the source tree (bench/micro) or the build (dist/bench/micro). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'campaigns'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no repository root above ${__dirname}`);
    dir = up;
  }
}
