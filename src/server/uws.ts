/**
 * Loads the native uWebSockets.js binary explicitly. The package's own loader silently
 * falls back to a slow pure-JS server when the binary does not load; a bidder running on
 * that fallback would look healthy and miss every deadline, so we refuse to start instead.
 */
import { dirname, join } from 'node:path';

export type Uws = typeof import('uWebSockets.js');

export class UwsLoadError extends Error {
  readonly code = 'UWS_NATIVE_UNAVAILABLE';
}

export function loadNativeUws(): Uws {
  let pkgDir: string;
  try {
    pkgDir = dirname(require.resolve('uWebSockets.js/package.json'));
  } catch {
    throw new UwsLoadError('uWebSockets.js is not installed (run npm ci)');
  }
  const file = join(
    pkgDir,
    'binaries',
    `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
  );
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const uws = require(file) as Uws;
    if (typeof uws.App !== 'function') throw new Error('binary has no App export');
    return uws;
  } catch (err) {
    throw new UwsLoadError(
      `native uWebSockets.js binary unavailable for ${process.platform}-${process.arch} ` +
        `Node ABI ${process.versions.modules} (${file}): ${(err as Error).message}. ` +
        'Refusing to start on the slow pure-JS fallback.',
    );
  }
}
