import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The file in an embedded home that holds the local user's secret (mode 0600). */
export const LOCAL_SECRET_FILE = 'local-token';

/**
 * The embedded server's local credential: whoever holds it (the CLI reads the file; the browser gets a cookie from the
 * URL `yoke start` prints) is the local user. Created once per home, 32 random bytes, readable by its owner only.
 * A file that others can read is narrowed to 0600 before use; one owned by another user is refused.
 */
export function ensureLocalSecret(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const path = join(home, LOCAL_SECRET_FILE);
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `ykl_${randomBytes(32).toString('base64url')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new Error(`${path} belongs to another user (uid ${st.uid}); remove it or use another YOKE_HOME`);
    }
    if ((st.mode & 0o077) !== 0) chmodSync(path, 0o600);
  } finally {
    closeSync(fd);
  }
  const secret = readFileSync(path, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${path} does not hold a local credential; remove it to create a new one`);
  return secret;
}
