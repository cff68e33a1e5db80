/**
 * The key notice tokens are signed with (notice-token.ts). A fleet shares one, read from
 * BIDDER_NOTICE_KEY_FILE; without the file each process draws a random key, so its
 * notices verify only on itself, and says so once at start.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** 256 bits: HMAC-SHA256's own block of security. */
export const kMinNoticeKeyBytes = 32;

export type NoticeKey = { ok: true; key: Buffer; source: 'file' | 'random'; warning: string | null } | { ok: false; code: 'NOTICE_KEY_UNREADABLE' | 'NOTICE_KEY_TOO_SHORT'; message: string };

/**
 * The key in `file` (its bytes, less one trailing newline), at least kMinNoticeKeyBytes;
 * without a file, a random key and the warning to print.
 */
export function loadNoticeKey(file: string | undefined, random: (n: number) => Buffer = randomBytes): NoticeKey {
  if (file === undefined || file === '') {
    return {
      ok: true,
      key: random(kMinNoticeKeyBytes),
      source: 'random',
      warning: 'no BIDDER_NOTICE_KEY_FILE: notice tokens are signed with a random key of this process, so notices sent to another instance (or after a restart) will be refused as forged',
    };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return { ok: false, code: 'NOTICE_KEY_UNREADABLE', message: `${file}: ${(err as Error).message}` };
  }
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) bytes = bytes.subarray(0, bytes.length - 1);
  if (bytes.length < kMinNoticeKeyBytes) {
    return { ok: false, code: 'NOTICE_KEY_TOO_SHORT', message: `${file}: ${bytes.length} bytes, at least ${kMinNoticeKeyBytes} wanted (e.g. head -c 32 /dev/urandom | base64)` };
  }
  return { ok: true, key: Buffer.from(bytes), source: 'file', warning: null };
}
