/**
 * Crash-safe file writes: a temp file in the same folder, fsync, rename over
 * the target, fsync the folder. A reader sees the old file or the new one,
 * never half of one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MasaError } from '@masa-rl/core';

/** Flushes a folder's entry table (so a rename inside it survives a power cut). Best effort where unsupported. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Writes `data` to a file and fsyncs it. */
export async function writeFileSynced(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` atomically with `data`.
 *
 * @throws MasaError `FILE_WRITE_FAILED` naming the file.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await writeFileSynced(temp, data);
    await rename(temp, path);
    await syncDirectory(dirname(path));
  } catch (error: unknown) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new MasaError('FILE_WRITE_FAILED', `could not write ${path} (${(error as Error).message}); check that the folder exists, is writable and has free space`, {
      cause: error,
      details: { path },
    });
  }
}
