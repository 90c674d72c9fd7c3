import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MasaError, type Problem } from '@masa-rl/core';

export interface WriteFileAtomicOptions {
  /**
   * The end of the failure message: what the user can do instead.
   * @default 'or pass another --output'
   */
  alternative?: string;
}

/** Flushes a folder's entry table, so a rename inside it survives a power cut. Best effort where unsupported. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on folders; the rename is still atomic.
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
 * Writes a file atomically and crash-safely: the data goes to a temporary
 * file beside the target, is fsynced, renamed over the target, and the folder
 * is fsynced — a reader (or a reboot) sees the old file or the new one, never
 * half of one. Missing parent folders are created. Failures throw
 * `FILE_WRITE_FAILED` naming the file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const { alternative = 'or pass another --output' } = options;
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileSynced(temp, data);
    await rename(temp, path);
    await syncDirectory(dirname(path));
  } catch (error: unknown) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new MasaError('FILE_WRITE_FAILED', `could not write ${path} (${String(error)}): check that its folder is writable and the disk has space, ${alternative}`, {
      cause: error,
      details: { path },
    });
  }
}

/** Serialises problems as uniform JSONL (one object per line, keys id, question, answer, choices?, meta?). */
export function problemsToJsonl(problems: readonly Problem[]): string {
  return problems
    .map((problem) => {
      const ordered: Problem = { id: problem.id, question: problem.question, answer: problem.answer };
      if (problem.choices !== undefined) ordered.choices = problem.choices;
      if (problem.meta !== undefined) ordered.meta = problem.meta;
      return `${JSON.stringify(ordered)}\n`;
    })
    .join('');
}

/** Writes problems as uniform JSONL, atomically. */
export async function writeProblemsJsonl(path: string, problems: readonly Problem[]): Promise<void> {
  await writeFileAtomic(path, problemsToJsonl(problems));
}
