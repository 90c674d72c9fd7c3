/**
 * Test helpers: a small in-process training run with the simulated policy
 * (fake backend + scripted engine) on the synthetic task, written to a temp
 * run folder.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTrainRun } from '../resolve-run.js';
import { runTrainJob, type JobMessage } from '../train-job.js';

/** Overrides for a run of a few fast steps. */
export const SMALL_RUN = [
  'data.train_batch_size=4',
  'data.val_files="synthetic-arith-validation"',
  'actor_rollout_ref.rollout.n=4',
  'masa.meta_n=4',
  'masa.calibration_steps=2',
  'trainer.total_training_steps=6',
  'trainer.test_freq=3',
  'trainer.save_freq=3',
  'trainer.samples_per_step=4',
  'actor_rollout_ref.actor.optim.lr=0.01',
] as const;

export function tempDir(label = 'run'): string {
  return mkdtempSync(join(tmpdir(), `masa-train-app-${label}-`));
}

export interface FakeRunOptions {
  runDir: string;
  overrides?: readonly string[];
  algo?: string;
  resume?: boolean;
  /** Polled at each step boundary. */
  stopRequested?: () => boolean;
}

/** Runs a small fake training job in-process; returns its messages. */
export async function fakeRun(options: FakeRunOptions): Promise<JobMessage[]> {
  const run = resolveTrainRun({
    overrides: [...SMALL_RUN, ...(options.overrides ?? [])],
    runDir: options.runDir,
    cwd: process.cwd(),
    ...(options.algo === undefined ? {} : { algo: options.algo }),
    ...(options.resume === true ? { resume: true } : {}),
  });
  const messages: JobMessage[] = [];
  await runTrainJob(
    { configText: run.configText, runDir: run.runDir, backend: 'fake', cwd: process.cwd() },
    { emit: (message) => messages.push(message), ...(options.stopRequested === undefined ? {} : { stopRequested: options.stopRequested }) },
  );
  const failed = messages.find((message) => message.type === 'failed');
  if (failed !== undefined && failed.type === 'failed') throw new Error(`fake run failed: ${failed.error.code} ${failed.error.message}`);
  return messages;
}
