import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MasaError, type Problem } from '@masa-rl/core';

let sequence = 0;

export interface WriteFileAtomicOptions {
  /**
   * The end of the failure message: what the user can do instead.
   * @default 'or pass another --output'
   */
  alternative?: string;
}

/**
 * Writes a file atomically: the data goes to a temporary file beside the
 * target, which is then renamed over it, so a reader never sees half a file.
 * Missing parent folders are created. Failures throw `FILE_WRITE_FAILED`.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  const { alternative = 'or pass another --output' } = options;
  sequence += 1;
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${sequence}`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, data);
    await rename(temp, path);
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
