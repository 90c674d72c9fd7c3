/**
 * The trainer's crash-safe writes: `@masa-rl/datasets`' (temp file, fsync,
 * rename, fsync of the folder), with a failure message that points at the
 * run folder.
 */
import { writeFileAtomic as writeDatasetFileAtomic } from '@masa-rl/datasets';

export { syncDirectory, writeFileSynced } from '@masa-rl/datasets';

/**
 * Replaces `path` atomically with `data`.
 *
 * @throws MasaError `FILE_WRITE_FAILED` naming the file.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  return writeDatasetFileAtomic(path, data, { alternative: 'or choose another run folder (--run-dir / trainer.default_local_dir)' });
}
