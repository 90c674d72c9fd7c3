/**
 * Writes TensorBoard event files (`events.out.tfevents.<seconds>.<host>`)
 * with scalar summaries, so TensorBoard (and tools that read its files:
 * `tbparse`, `wandb sync --sync-tensorboard`) can plot a run.
 *
 * Each writer starts a new file (as TensorFlow does after a restart) whose
 * first records are the file version and a `SessionLog.START` at the first
 * step it will log: TensorBoard then drops the points a previous, interrupted
 * writer logged at that step or later (the steps a resumed run does again).
 * Records are appended with one `write` each; a reader that meets a torn last
 * record (a crash mid-write) stops there, as with TensorFlow's own files.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { encodeEvent, frameRecord, TENSORBOARD_FILE_VERSION, type ScalarValue, type TensorBoardEventBody } from './tensorboard-event.js';

/** Prefix of every event file name (TensorBoard picks files whose name holds `tfevents`). */
export const TENSORBOARD_FILE_PREFIX = 'events.out.tfevents.';

export interface CreateTensorBoardWriterOptions {
  /** Folder of the event files; created if missing. */
  dir: string;
  /** The first step this writer will log (`SessionLog.START` is written at it). @default 0 */
  startStep?: number;
  /** Host name in the file name. @default os.hostname() */
  hostname?: string;
  /** Wall clock in milliseconds since the Unix epoch. @default Date.now */
  now?: () => number;
}

export interface TensorBoardWriter {
  /** The event file being written. */
  readonly path: string;
  /**
   * Appends one summary with a scalar per numeric field of `values` (the key
   * `step` and non-numbers are skipped) at `step`.
   *
   * @throws MasaError `FILE_WRITE_FAILED`
   */
  addScalars(step: number, values: Readonly<Record<string, unknown>>): void;
  /** Closes the file (idempotent). */
  close(): void;
}

function writeFailed(path: string, error: unknown): MasaError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new MasaError(
    'FILE_WRITE_FAILED',
    `cannot write TensorBoard events to ${path} (${code}); free some space or choose a writable --run-dir, or pass --no-tensorboard to skip the event files`,
    { cause: error, details: { path } },
  );
}

/** A file-name-safe host name (`/` and other path characters replaced by `_`). */
function safeHostname(name: string): string {
  const cleaned = name.replace(/[^\w.-]/g, '_');
  return cleaned === '' ? 'localhost' : cleaned;
}

/**
 * Creates the folder and a new event file, and writes its header records.
 *
 * @throws MasaError `FILE_WRITE_FAILED` (folder or file not writable)
 */
export function createTensorBoardWriter(options: CreateTensorBoardWriterOptions): TensorBoardWriter {
  const { dir, startStep = 0, now = Date.now } = options;
  const host = safeHostname(options.hostname ?? osHostname());
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error: unknown) {
    throw writeFailed(dir, error);
  }
  const base = `${TENSORBOARD_FILE_PREFIX}${Math.floor(now() / 1000)}.${host}`;
  let path = join(dir, base);
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt += 1) {
    path = join(dir, attempt === 0 ? base : `${base}.${attempt}`);
    try {
      fd = openSync(path, 'wx');
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 1000) throw writeFailed(path, error);
    }
  }
  const handle = fd;
  let closed = false;
  const append = (step: number, body: TensorBoardEventBody): void => {
    if (closed) throw new MasaError('INTERNAL', `TensorBoard writer for ${path} is closed`);
    const record = frameRecord(encodeEvent({ wallTime: now() / 1000, step, body }));
    try {
      let written = 0;
      while (written < record.length) written += writeSync(handle, record, written);
    } catch (error: unknown) {
      throw writeFailed(path, error);
    }
  };
  append(0, { type: 'file-version', version: TENSORBOARD_FILE_VERSION });
  append(startStep, { type: 'session-start' });
  return {
    path,
    addScalars(step, values) {
      const scalars: ScalarValue[] = [];
      for (const [tag, value] of Object.entries(values)) {
        if (tag !== 'step' && typeof value === 'number') scalars.push({ tag, value });
      }
      if (scalars.length > 0) append(step, { type: 'scalars', values: scalars });
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(handle);
    },
  };
}
