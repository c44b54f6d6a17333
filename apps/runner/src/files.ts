import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a file atomically (temp file, fsync, rename): a crash leaves the old or the new content, never half. */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** As `writeFileAtomic`, off the event loop. */
export async function writeFileAtomicAsync(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.async.tmp`;
  await writeSyncedAsync(tmp, data, mode);
  await rename(tmp, path);
}

/**
 * The first half of an atomic write, off the event loop: `data` written to `tmp` and synced to disk. The caller then
 * renames `tmp` into place (or removes it, when what it holds is no longer the newest).
 */
export async function writeSyncedAsync(tmp: string, data: string, mode = 0o600): Promise<void> {
  const handle = await open(tmp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
