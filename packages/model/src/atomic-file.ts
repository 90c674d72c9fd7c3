import { copyFile, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MasaError } from '@masa-rl/core';

let counter = 0;

/**
 * Writes `path` atomically: `write` fills a temporary file in the same folder, which is
 * flushed to disk and then renamed over `path`. Readers see the old file or the new one,
 * never a partial one. The temporary file is removed when `write` throws.
 *
 * @throws MasaError `FILE_WRITE_FAILED` naming the path.
 */
export async function writeFileAtomic(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  counter += 1;
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter}`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'w');
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    if (MasaError.isInstance(error)) throw error;
    throw new MasaError('FILE_WRITE_FAILED', `could not write ${path}: ${(error as Error).message} (check that the folder exists and is writable)`, {
      cause: error,
      details: { path },
    });
  }
}

/** Writes a whole buffer at the handle's current position, looping over short writes. */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

/** Writes text (UTF-8) atomically. */
export async function writeTextFileAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, (handle) => writeAll(handle, new TextEncoder().encode(text)));
}

/** Copies a file atomically (copy to a temporary name beside the destination, then rename). */
export async function copyFileAtomic(source: string, destination: string): Promise<void> {
  counter += 1;
  const temp = join(dirname(destination), `.${basename(destination)}.tmp-${process.pid}-${counter}`);
  try {
    await copyFile(source, temp);
    await rename(temp, destination);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new MasaError('FILE_WRITE_FAILED', `could not copy ${source} to ${destination}: ${(error as Error).message}`, {
      cause: error,
      details: { path: destination },
    });
  }
}
