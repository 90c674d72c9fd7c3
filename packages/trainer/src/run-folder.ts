/**
 * The run folder, the contract between the trainer and whatever watches it
 * (DESIGN.md): `config.resolved.yaml`, `metrics.jsonl` (one JSON object per
 * step, appended and flushed per line), `samples.jsonl`, `checkpoints/step-N/`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { writeFileAtomic } from './atomic-file.js';

export const RUN_FILES = {
  config: 'config.resolved.yaml',
  metrics: 'metrics.jsonl',
  samples: 'samples.jsonl',
  checkpoints: 'checkpoints',
} as const;

/** A line of `metrics.jsonl` or `samples.jsonl`: any JSON object with the training step. */
export interface StepRecord {
  step: number;
  [key: string]: unknown;
}

export interface RunFolder {
  readonly dir: string;
  readonly checkpointsDir: string;
  /** Writes `config.resolved.yaml` atomically. */
  writeResolvedConfig(text: string): Promise<void>;
  /** Appends one line to `metrics.jsonl` (written through to the OS before returning). */
  appendMetrics(record: StepRecord): void;
  /** Appends lines to `samples.jsonl`. */
  appendSamples(records: readonly StepRecord[]): void;
  /** Reads `metrics.jsonl` (skips a torn last line). */
  readMetrics(): Promise<StepRecord[]>;
  /** Reads `samples.jsonl` (skips a torn last line). */
  readSamples(): Promise<StepRecord[]>;
  /**
   * Drops every line with `step > lastStep` from `metrics.jsonl` and
   * `samples.jsonl` (atomically), so a run resumed from checkpoint N continues
   * the files where that checkpoint left them.
   */
  truncateAfter(lastStep: number): Promise<void>;
}

export interface CreateRunFolderOptions {
  /** The run folder (created if missing). */
  dir: string;
}

function appendLines(path: string, records: readonly StepRecord[]): void {
  if (records.length === 0) return;
  const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
  try {
    // appendFileSync opens, writes and closes: each call leaves whole lines in the OS.
    appendFileSync(path, text);
  } catch (error: unknown) {
    throw new MasaError('FILE_WRITE_FAILED', `could not append to ${path} (${(error as Error).message}); check free space and permissions`, {
      cause: error,
      details: { path },
    });
  }
}

async function readLines(path: string): Promise<StepRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: StepRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'object' && value !== null && typeof (value as StepRecord).step === 'number') out.push(value as StepRecord);
    } catch {
      // A torn last line of a killed run: ignored.
    }
  }
  return out;
}

/** Opens (and creates) a run folder. */
export function createRunFolder(options: CreateRunFolderOptions): RunFolder {
  const { dir } = options;
  const checkpointsDir = join(dir, RUN_FILES.checkpoints);
  try {
    mkdirSync(checkpointsDir, { recursive: true });
  } catch (error: unknown) {
    throw new MasaError('FILE_WRITE_FAILED', `could not create the run folder ${dir} (${(error as Error).message}); set trainer.default_local_dir to a writable folder`, {
      cause: error,
      details: { path: dir },
    });
  }
  const metricsPath = join(dir, RUN_FILES.metrics);
  const samplesPath = join(dir, RUN_FILES.samples);
  const rewrite = async (path: string, lastStep: number): Promise<void> => {
    const kept = (await readLines(path)).filter((record) => record.step <= lastStep);
    await writeFileAtomic(path, kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
  };
  return {
    dir,
    checkpointsDir,
    writeResolvedConfig: (text) => writeFileAtomic(join(dir, RUN_FILES.config), text),
    appendMetrics: (record) => appendLines(metricsPath, [record]),
    appendSamples: (records) => appendLines(samplesPath, records),
    readMetrics: () => readLines(metricsPath),
    readSamples: () => readLines(samplesPath),
    async truncateAfter(lastStep) {
      await rewrite(metricsPath, lastStep);
      await rewrite(samplesPath, lastStep);
    },
  };
}
