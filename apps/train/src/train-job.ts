/**
 * One training job, as the worker process runs it: resolve the config text,
 * load the data, build the engine and backend, run `trainIter`, and report
 * everything as {@link JobMessage}s. It also writes `meta-stats.jsonl` (one
 * line per finished step) next to the trainer's files. Runs in-process too
 * (tests), but the app forks it so the parent stays responsive.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError, type RolloutEngine } from '@masa-rl/core';
import { resolveConfig, trainIter, writeFileAtomic, type PolicyBackend, type RequestDefaults, type TrainEvent, type TrainerConfig } from '@masa-rl/trainer';
import { computeMetaStats, META_STATS_FILE, type MetaStatsLine } from './meta-stats.js';
import { createObservedAlgorithmFactory } from './observed-algorithm.js';
import { createOrtPolicy } from './ort-policy.js';
import { createSimulatedPolicy } from './simulated-policy.js';
import { createTrainPromptBuilder, createTrainReward, loadTrainData, type TrainData } from './train-data.js';

/** Which policy backend and rollout engine train. */
export type BackendKind = 'ort' | 'fake';

/** Everything the worker needs (plain data: it crosses the process boundary). */
export interface TrainJob {
  /** The resolved config as YAML (what `config.resolved.yaml` holds). */
  configText: string;
  /** Run folder (absolute). */
  runDir: string;
  /** `ort`: the ONNX Runtime backend and engine; `fake`: the simulated policy. */
  backend: BackendKind;
  /** Relative data paths are resolved against this folder. */
  cwd: string;
  /** Folder of the bundled datasets. @default found from the datasets package */
  datasetsDir?: string;
}

/** A compact view of a {@link MetaStatsLine} for progress lines (no examples). */
export interface StepSummary {
  step: number;
  accuracy: number | null;
  calibrationMae: number | null;
  gatedFraction: number | null;
  tokensSaved: number;
  solutionTokens: number;
}

/** The checkpoint a graceful stop left. */
export interface StopCheckpoint {
  step: number;
  path: string;
  /** `false` when the step had already been saved (`save_freq`). */
  saved: boolean;
}

/** A MasaError (or any failure) as plain data. */
export interface SerializedError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  stack?: string;
}

/** What a job reports, in order. */
export type JobMessage =
  | { type: 'loading'; what: string }
  | { type: 'event'; event: TrainEvent }
  | { type: 'step-summary'; summary: StepSummary }
  | { type: 'stop-checkpoint'; checkpoint: StopCheckpoint }
  | { type: 'done'; step: number; reason: 'completed' | 'data-exhausted' }
  | { type: 'stopped'; step: number; checkpoint: string | null }
  | { type: 'failed'; error: SerializedError };

export interface RunTrainJobOptions {
  emit: (message: JobMessage) => void;
  /** Polled at each step boundary: `true` saves a checkpoint and stops. @default never */
  stopRequested?: () => boolean;
  /** Aborts at once (generation in flight too); progress since the last checkpoint is lost. */
  signal?: AbortSignal;
  /** Test seam: build the engine and backend yourself. */
  _internal?: { createPolicy?: (input: { config: TrainerConfig; problems: TrainData }) => TrainPolicy | Promise<TrainPolicy> };
}

/** What a backend kind builds for one job. */
export interface TrainPolicy {
  engine: RolloutEngine;
  backend: PolicyBackend;
  /** Applied to every generation request (the model's stop tokens). @default {} */
  requestDefaults?: RequestDefaults;
  /** Releases everything (engine and backend). @default closes the engine */
  close?: () => Promise<void>;
}

/** Turns anything thrown into plain data for the parent. */
export function serializeError(error: unknown): SerializedError {
  if (MasaError.isInstance(error)) {
    return { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
  }
  const plain = error instanceof Error ? error : new Error(String(error));
  return { code: 'INTERNAL', message: plain.message, ...(plain.stack === undefined ? {} : { stack: plain.stack }) };
}

async function createPolicy(job: TrainJob, config: TrainerConfig, data: TrainData): Promise<TrainPolicy> {
  if (job.backend === 'fake') {
    // Skill grows with the weights' movement in units of the learning rate (Adam moves each weight ≈ lr per step).
    const lr = config.actor_rollout_ref.actor.optim.lr;
    const policy = createSimulatedPolicy({
      problems: [...data.train.problems, ...data.validation.flatMap((set) => set.problems)],
      seed: config.trainer.seed,
      ...(lr > 0 ? { skillScale: 1 / (10 * lr) } : {}),
    });
    return { engine: policy.engine, backend: policy.backend };
  }
  // `ort`: the model of actor_rollout_ref.model.path, trained and sampled on the same arrays.
  return createOrtPolicy({ config, cwd: job.cwd });
}

/** Runs one job to its end; never throws (failures become a `failed` message). */
export async function runTrainJob(job: TrainJob, options: RunTrainJobOptions): Promise<void> {
  const { emit, stopRequested = () => false, signal } = options;
  try {
    const config = resolveConfig({ file: { text: job.configText, path: join(job.runDir, 'config.resolved.yaml') } });
    emit({ type: 'loading', what: 'data' });
    const data = await loadTrainData({
      train: config.data.train_files,
      validation: config.data.val_files,
      cwd: job.cwd,
      ...(job.datasetsDir === undefined ? {} : { datasetsDir: job.datasetsDir }),
    });
    emit({ type: 'loading', what: job.backend === 'fake' ? 'simulated policy' : 'model' });
    const policy = await (options._internal?.createPolicy ?? ((input) => createPolicy(job, input.config, input.problems)))({ config, problems: data });
    const { engine, backend } = policy;
    const pending = new Map<number, MetaStatsLine>();
    const metaStatsPath = join(job.runDir, META_STATS_FILE);
    const algorithmFactory = createObservedAlgorithmFactory({
      onCollected: (step, collected) => pending.set(step, computeMetaStats({ step, collected, config })),
    });
    const iterator = trainIter({
      config,
      engine,
      backend,
      train: data.train,
      validation: data.validation,
      reward: createTrainReward(data.templates),
      buildPrompt: createTrainPromptBuilder(data.templates),
      ...(policy.requestDefaults === undefined ? {} : { requestDefaults: policy.requestDefaults }),
      runDir: job.runDir,
      algorithmFactory,
      stopRequested,
      ...(signal === undefined ? {} : { signal }),
    });
    let lastStep = 0;
    // The newest checkpoint, and whether the trainer wrote it after the step ended (a stop) rather than on schedule.
    let lastCheckpoint: StopCheckpoint | undefined;
    try {
      for (let result = await iterator.next(); result.done !== true; result = await iterator.next()) {
        const event = result.value;
        if (event.type === 'run-start') {
          lastStep = event.startStep;
          // A resumed run starts at a checkpoint: stopping before its first step leaves that one.
          if (event.resumedFrom !== null) lastCheckpoint = { step: event.startStep, path: event.resumedFrom, saved: false };
          await rewriteMetaStats(job.runDir, event.startStep);
        }
        if (event.type === 'step-end') {
          lastStep = event.step;
          const line = pending.get(event.step);
          pending.delete(event.step);
          if (line !== undefined) {
            appendFileSync(metaStatsPath, `${JSON.stringify(line)}\n`);
            emit({ type: 'step-summary', summary: summarize(line, event.metrics) });
          }
        }
        if (event.type === 'checkpoint-saved') lastCheckpoint = { step: event.step, path: event.path, saved: event.step === lastStep };
        emit({ type: 'event', event });
        if (event.type === 'run-end') {
          if (event.reason !== 'stopped') emit({ type: 'done', step: event.step, reason: event.reason });
          else {
            const checkpoint = lastCheckpoint?.step === event.step ? lastCheckpoint : undefined;
            if (checkpoint !== undefined) emit({ type: 'stop-checkpoint', checkpoint });
            emit({ type: 'stopped', step: event.step, checkpoint: checkpoint?.path ?? null });
          }
        }
      }
    } catch (error: unknown) {
      if (MasaError.isInstance(error) && error.code === 'ABORTED') {
        // An abort loses the step in flight; the newest checkpoint is the one to resume from, if it is of the last finished step.
        emit({ type: 'stopped', step: lastStep, checkpoint: lastCheckpoint?.step === lastStep ? lastCheckpoint.path : null });
        return;
      }
      throw error;
    } finally {
      await (policy.close ?? (async () => engine.close?.()))();
    }
  } catch (error: unknown) {
    emit({ type: 'failed', error: serializeError(error) });
  }
}

function summarize(line: MetaStatsLine, metrics: Record<string, number>): StepSummary {
  const gated = metrics['masa/gated_frac'];
  return {
    step: line.step,
    accuracy: line.accuracy,
    calibrationMae: line.calibration?.mae ?? null,
    gatedFraction: gated ?? null,
    tokensSaved: line.tokens.saved,
    solutionTokens: line.tokens.solution,
  };
}

/** Keeps the lines of `meta-stats.jsonl` with `step ≤ lastStep` (atomically), like the trainer does with its files on resume. */
export async function rewriteMetaStats(runDir: string, lastStep: number): Promise<void> {
  const path = join(runDir, META_STATS_FILE);
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (line.trim() === '') return false;
      try {
        const value = JSON.parse(line) as { step?: unknown };
        return typeof value.step === 'number' && value.step <= lastStep;
      } catch {
        return false;
      }
    });
  await writeFileAtomic(path, kept.map((line) => `${line}\n`).join(''));
}
