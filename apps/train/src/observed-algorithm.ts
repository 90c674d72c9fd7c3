/**
 * Wraps the trainer's algorithm (through its `algorithmFactory` seam) to
 * (1) see every collected step, for the meta diagnostics, and (2) stop at a
 * safe point: when a stop is requested, the next step's `collect` first saves
 * a checkpoint of the step that just ended (unless one exists) and then throws
 * `ABORTED`. At that point the loader cursor and the trainer's generator are
 * exactly where the trainer's own end-of-step checkpoint would have captured
 * them, so resuming from it is bit-identical to an uninterrupted run (tested).
 *
 * The checkpoint mirrors the trainer's own layout (`trainer-state.json`,
 * `config.resolved.yaml`, `backend/*`, `weights/`). This is a stopgap until
 * the trainer offers a graceful stop itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError, hashString } from '@masa-rl/core';
import {
  createAlgorithm,
  dumpResolvedConfig,
  RUN_FILES,
  saveCheckpoint,
  type AlgorithmFactory,
  type CheckpointBlob,
  type CollectedStep,
  type StepAlgorithm,
  type StepContext,
  type TrainDataset,
  type TrainEvent,
} from '@masa-rl/trainer';

export interface StopCheckpoint {
  step: number;
  path: string;
  /** `false` when the trainer had already saved this step. */
  saved: boolean;
}

export interface ObservedAlgorithmOptions {
  /** The run folder the trainer writes. */
  runDir: string;
  /** Called with every step's collected rollout groups. */
  onCollected?: (step: number, collected: CollectedStep) => void;
  /** Polled before each step: `true` stops the run at this boundary. */
  stopRequested?: () => boolean;
  /** Called after the stop checkpoint is in place, before `ABORTED` is thrown. */
  onStopCheckpoint?: (checkpoint: StopCheckpoint) => void;
  /** The algorithm to wrap. @default the trainer's `createAlgorithm` */
  inner?: AlgorithmFactory;
}

const dataFingerprint = (train: TrainDataset): number => hashString(train.problems.map((problem) => problem.id).join('\u0000'));

async function saveStopCheckpoint(context: StepContext, algorithm: StepAlgorithm, runDir: string): Promise<StopCheckpoint | undefined> {
  const step = context.step - 1;
  if (step < 1) return undefined;
  const checkpointsDir = join(runDir, RUN_FILES.checkpoints);
  const path = join(checkpointsDir, `step-${step}`);
  if (existsSync(path)) return { step, path, saved: false };
  const { config, backend, loader, rng, train } = context;
  const files: Record<string, CheckpointBlob> = {
    'trainer-state.json': {
      json: {
        format: 'masa-rl-trainer-state',
        version: 1,
        step,
        algorithm: algorithm.name,
        loader: loader.getState(),
        rng: { trainer: rng.getState() },
        data: { name: train.name, size: train.problems.length, fingerprint: dataFingerprint(train) },
        algorithmState: algorithm.getState?.() ?? null,
      },
    },
    [RUN_FILES.config]: dumpResolvedConfig(config),
  };
  for (const [name, bytes] of Object.entries(await backend.getState())) files[`backend/${name}`] = bytes;
  const saved = await saveCheckpoint({
    checkpointsDir,
    step,
    files,
    write: (dir) => backend.saveWeights(join(dir, 'weights')),
    keepLast: config.trainer.max_actor_ckpt_to_keep,
  });
  return { step, path: saved.path, saved: true };
}

/** An algorithm factory that observes collected steps and can stop at a step boundary with a checkpoint. */
export function createObservedAlgorithmFactory(options: ObservedAlgorithmOptions): AlgorithmFactory {
  const { runDir, onCollected, stopRequested = () => false, onStopCheckpoint, inner = createAlgorithm } = options;
  return (input) => {
    const algorithm = inner(input);
    const wrapped: StepAlgorithm = {
      name: algorithm.name,
      miniBatchSize: (collected, config) => algorithm.miniBatchSize(collected, config),
      async *collect(context: StepContext): AsyncGenerator<TrainEvent, CollectedStep | undefined> {
        if (stopRequested()) {
          const checkpoint = await saveStopCheckpoint(context, algorithm, runDir);
          if (checkpoint !== undefined) onStopCheckpoint?.(checkpoint);
          throw new MasaError(
            'ABORTED',
            checkpoint === undefined
              ? `training stopped before step ${context.step} finished; nothing to save yet`
              : `training stopped after step ${checkpoint.step}; checkpoint ${checkpoint.path}`,
            { details: { step: context.step - 1, ...(checkpoint === undefined ? {} : { checkpoint: checkpoint.path }) } },
          );
        }
        const collected = yield* algorithm.collect(context);
        if (collected !== undefined) onCollected?.(context.step, collected);
        return collected;
      },
      ...(algorithm.afterUpdate === undefined
        ? {}
        : { afterUpdate: (context: StepContext, collected: CollectedStep) => (algorithm.afterUpdate as NonNullable<StepAlgorithm['afterUpdate']>)(context, collected) }),
      ...(algorithm.getState === undefined ? {} : { getState: () => algorithm.getState?.() }),
      ...(algorithm.setState === undefined ? {} : { setState: (state: unknown) => algorithm.setState?.(state) }),
    };
    return wrapped;
  };
}
