/**
 * The training loop: `trainIter()` yields typed events step by step and
 * `train()` drains it. It prints nothing, writes the run folder, and resumes
 * exactly from the newest complete checkpoint.
 */
import { join } from 'node:path';
import { parse } from 'yaml';
import { MasaError, createRng, hashString, type RolloutEngine, type RngState } from '@masa-rl/core';
import {
  createSolutionAlgorithm,
  type CollectedStep,
  type StepAlgorithm,
  type StepContext,
  type TrainDataset,
} from './algorithm.js';
import { findLatestCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointBlob, type LoadedCheckpoint } from './checkpoint.js';
import type { AlgorithmName, TrainerConfig } from './config-schema.js';
import { dumpResolvedConfig } from './config.js';
import { createDataLoader, type DataLoaderState } from './data-loader.js';
import type { StepMetrics, TrainEvent } from './events.js';
import { createLrScheduleFromConfig } from './lr-schedule.js';
import type { PolicyBackend, PolicySequence, TrainSequence } from '@masa-rl/core';
import {
  computeLogprobs,
  computeSequenceAdvantages,
  policyLossSpec,
  rolloutLogprobs,
  runPolicyUpdate,
  type UpdateSequence,
} from './policy-update.js';
import type { RewardFunction } from './reward.js';
import {
  defaultPromptBuilder,
  generateGroups,
  scoreGroups,
  validationSampling,
  type PromptBuilder,
  type RequestDefaults,
  type RolloutGroup,
} from './rollouts.js';
import { createRunFolder, type RunFolder, type StepRecord } from './run-folder.js';
import { META_UID_SUFFIX, createMasaAlgorithm, defaultMetaPromptBuilder, isMasaAlgorithm, type MasaOptions } from './masa.js';
import { computeValidationMetaMetrics } from './val-meta.js';

/** Builds the algorithm named in the config. */
export type AlgorithmFactory = (input: { config: TrainerConfig; train: TrainDataset; masa: MasaOptions }) => StepAlgorithm;

export interface TrainOptions {
  /** A resolved config (`resolveConfig` / `loadConfigFile`). */
  config: TrainerConfig;
  /** Samples rollouts with the current weights. */
  engine: RolloutEngine;
  /** Scores and trains the policy. */
  backend: PolicyBackend;
  /** Training problems (loaded by the app from `data.train_files`). */
  train: TrainDataset;
  /** Validation datasets (from `data.val_files`). @default [] */
  validation?: readonly TrainDataset[];
  /** Scores solution rollouts and validation samples. */
  reward: RewardFunction;
  /** Solution prompt of a problem. @default one user message with the question */
  buildPrompt?: PromptBuilder;
  /** Applied to every generation request (the model's stop tokens …). @default {} */
  requestDefaults?: RequestDefaults;
  /** Run folder. @default config.trainer.default_local_dir */
  runDir?: string;
  /** Stops the run at the next step boundary (and aborts generation in flight) with `ABORTED`. */
  signal?: AbortSignal;
  /**
   * Polled once before every step: `true` ends the run gracefully there. The
   * last finished step is checkpointed (unless `save_freq` already did), so
   * resuming continues bit-identical to a run that never stopped; the run
   * ends with reason `stopped`. @default never
   */
  stopRequested?: () => boolean;
  /** Millisecond clock for phase timings. @default performance.now */
  now?: () => number;
  /** Hooks of the MASA algorithms (meta prompt builder, target tokenizer for behaviour cloning). @default {} */
  masa?: MasaOptions;
  /** Builds the algorithm (a seam for experiments). @default {@link createAlgorithm} */
  algorithmFactory?: AlgorithmFactory;
}

export interface TrainResult {
  /** Last completed step. */
  step: number;
  reason: 'completed' | 'data-exhausted' | 'stopped';
  /** Metrics of the last step (or of the pre-training validation). */
  lastMetrics: StepMetrics | undefined;
  warnings: Array<{ step: number; code: string; message: string }>;
}

const TRAINER_STATE_FILE = 'trainer-state.json';
const CONFIG_FILE = 'config.resolved.yaml';
const WEIGHTS_DIR = 'weights';
const BACKEND_PREFIX = 'backend/';

interface TrainerState {
  format: 'masa-rl-trainer-state';
  version: 1;
  step: number;
  algorithm: AlgorithmName;
  loader: DataLoaderState;
  rng: { trainer: RngState };
  data: { name: string; size: number; fingerprint: number };
  algorithmState: unknown;
}

function dataFingerprint(train: TrainDataset): number {
  return hashString(train.problems.map((problem) => problem.id).join('\u0000'));
}

/** The built-in algorithms: `grpo`, `dapo`, `masa`, `masa-efficient`, `dapo-masa`. */
export const createAlgorithm: AlgorithmFactory = ({ config, masa }) => {
  const name = config.algorithm.name;
  return isMasaAlgorithm(name) ? createMasaAlgorithm({ config, masa }) : createSolutionAlgorithm(name);
};

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

function addStats(metrics: Record<string, number>, prefix: string, values: readonly number[]): void {
  if (values.length === 0) return;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  metrics[`${prefix}/mean`] = mean(values);
  metrics[`${prefix}/max`] = max;
  metrics[`${prefix}/min`] = min;
}

async function readTrainerState(checkpoint: LoadedCheckpoint): Promise<TrainerState> {
  const value = (await checkpoint.readJson(TRAINER_STATE_FILE)) as Partial<TrainerState>;
  if (value.format !== 'masa-rl-trainer-state' || value.version !== 1 || typeof value.step !== 'number' || value.loader === undefined || value.rng === undefined || value.data === undefined) {
    throw new MasaError('CHECKPOINT_INVALID', `${checkpoint.path}/${TRAINER_STATE_FILE} is not a masa-rl trainer state; resume from another checkpoint or start fresh (trainer.resume_mode=disable)`, {
      details: { path: checkpoint.path },
    });
  }
  return value as TrainerState;
}

function changedKeys(before: unknown, after: unknown, prefix = ''): string[] {
  if (typeof before !== 'object' || before === null || typeof after !== 'object' || after === null || Array.isArray(before)) {
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
  }
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const key of keys) {
    out.push(...changedKeys((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key], prefix === '' ? key : `${prefix}.${key}`));
  }
  return out;
}

/**
 * Trains, yielding events. Stop iterating at any point (or abort the signal)
 * and a later call with the same run folder resumes from the newest complete
 * checkpoint and ends bit-identical to an uninterrupted run.
 *
 * Per step: collect rollout groups (algorithm) → old log-probs from the
 * backend right after generation (verl semantics) → advantages per uid →
 * mini-batch / micro-batch update → validation (every `test_freq` steps and
 * the last) → `metrics.jsonl` line → checkpoint (every `save_freq` steps and
 * the last).
 *
 * @throws MasaError `NUMERIC_INSTABILITY` (no weights touched), `CHECKPOINT_INVALID`,
 * `DATASET_INVALID`, `ENGINE_FAILED`, `ABORTED`, `CONFIG_INVALID`.
 */
export async function* trainIter(options: TrainOptions): AsyncGenerator<TrainEvent, TrainResult> {
  const {
    config,
    engine,
    backend,
    train,
    validation = [],
    reward,
    buildPrompt = defaultPromptBuilder,
    requestDefaults = {},
    signal,
    stopRequested = () => false,
    now = () => performance.now(),
    masa = {},
    algorithmFactory = createAlgorithm,
  } = options;
  const runStarted = now();
  const trainerConfig = config.trainer;
  const algorithm = algorithmFactory({ config, train, masa });
  const loader = createDataLoader({
    size: train.problems.length,
    batchSize: config.data.train_batch_size,
    seed: config.data.seed,
    shuffle: config.data.shuffle,
    dropLast: config.data.drop_last,
    totalEpochs: trainerConfig.total_epochs,
  });
  const availableBatches = loader.batchesPerEpoch * trainerConfig.total_epochs;
  // Without dynamic sampling every step takes one batch, so there are at most `availableBatches` steps.
  const totalSteps = config.algorithm.filter_groups.enable
    ? (trainerConfig.total_training_steps ?? availableBatches)
    : Math.min(trainerConfig.total_training_steps ?? availableBatches, availableBatches);
  const schedule = createLrScheduleFromConfig(config, totalSteps);
  const rng = createRng(trainerConfig.seed);
  const runFolder: RunFolder = createRunFolder({ dir: options.runDir ?? trainerConfig.default_local_dir });
  const configText = dumpResolvedConfig(config);
  const warnings: TrainResult['warnings'] = [];
  const note = (event: TrainEvent): TrainEvent => {
    if (event.type === 'warning') warnings.push({ step: event.step, code: event.code, message: event.message });
    return event;
  };

  // ---- resume ----
  let checkpoint: LoadedCheckpoint | undefined;
  if (trainerConfig.resume_mode === 'resume_path') {
    if (trainerConfig.resume_from_path === null) {
      throw new MasaError('CONFIG_INVALID', 'trainer.resume_mode is resume_path but trainer.resume_from_path is not set; set it to a checkpoints/step-N folder');
    }
    checkpoint = await loadCheckpoint(trainerConfig.resume_from_path);
  } else if (trainerConfig.resume_mode === 'auto') {
    const latest = await findLatestCheckpoint(runFolder.checkpointsDir);
    if (latest !== undefined) {
      checkpoint = await loadCheckpoint(latest.path);
      for (const skipped of latest.skipped) {
        yield note({ type: 'warning', step: latest.step, code: 'checkpoint-skipped', message: `ignored incomplete checkpoint ${skipped.path}: ${skipped.reason}` });
      }
    }
  }
  let startStep = 0;
  if (checkpoint !== undefined) {
    const state = await readTrainerState(checkpoint);
    if (state.data.size !== train.problems.length || state.data.fingerprint !== dataFingerprint(train)) {
      throw new MasaError(
        'CHECKPOINT_INVALID',
        `checkpoint ${checkpoint.path} was made with other training data (${state.data.name}, ${state.data.size} problems; now ${train.name}, ${train.problems.length}); resume with the same data.train_files or start fresh with trainer.resume_mode=disable`,
        { details: { path: checkpoint.path } },
      );
    }
    if (state.algorithm !== algorithm.name) {
      throw new MasaError(
        'CHECKPOINT_INVALID',
        `checkpoint ${checkpoint.path} was made by algorithm ${state.algorithm}, the config says ${algorithm.name}; resume with algorithm.name=${state.algorithm} or start fresh with trainer.resume_mode=disable`,
        { details: { path: checkpoint.path } },
      );
    }
    await backend.loadWeights(join(checkpoint.path, WEIGHTS_DIR));
    const backendState: Record<string, Uint8Array> = {};
    for (const name of checkpoint.files()) {
      if (name.startsWith(BACKEND_PREFIX)) backendState[name.slice(BACKEND_PREFIX.length)] = await checkpoint.read(name);
    }
    await backend.loadState(backendState);
    rng.setState(state.rng.trainer);
    loader.setState(state.loader);
    algorithm.setState?.(state.algorithmState);
    startStep = state.step;
    if (checkpoint.has(CONFIG_FILE)) {
      const before = await checkpoint.readText(CONFIG_FILE);
      if (before !== configText) {
        const keys = changedKeys(parse(before), parse(configText)).slice(0, 8);
        yield note({
          type: 'warning',
          step: startStep,
          code: 'config-changed',
          message: `resuming from ${checkpoint.path} with a different config (${keys.join(', ')}); the run will not match an uninterrupted one`,
        });
      }
    }
  }
  await runFolder.truncateAfter(checkpoint === undefined ? -1 : startStep);
  await runFolder.writeResolvedConfig(configText);

  yield {
    type: 'run-start',
    algorithm: algorithm.name,
    startStep,
    totalSteps,
    runDir: runFolder.dir,
    resumedFrom: checkpoint?.path ?? null,
    engine: engine.name,
    backend: backend.name,
  };

  if (!config.algorithm.filter_groups.enable && trainerConfig.total_training_steps !== null && trainerConfig.total_training_steps > availableBatches) {
    yield note({
      type: 'warning',
      step: startStep,
      code: 'steps-clamped',
      message: `trainer.total_training_steps = ${trainerConfig.total_training_steps} but ${trainerConfig.total_epochs} epoch(s) of ${loader.batchesPerEpoch} batches give only ${availableBatches} steps; training ${availableBatches} steps (raise trainer.total_epochs for more)`,
    });
  }

  // ---- validation ----
  async function* validate(step: number): AsyncGenerator<TrainEvent, Record<string, number>> {
    const started = now();
    const valKwargs = config.actor_rollout_ref.rollout.val_kwargs;
    const n = valKwargs.do_sample ? valKwargs.n : 1;
    // Its own generator, so validating (or not) never changes training.
    const valRng = createRng(trainerConfig.seed).fork(`validation-${step}`);
    const metrics: Record<string, number> = {};
    const valMetaN = isMasaAlgorithm(config.algorithm.name) ? (config.masa.val_meta_n ?? config.masa.meta_n) : 0;
    const buildMeta = masa.buildMetaPrompt ?? defaultMetaPromptBuilder;
    for (const dataset of validation) {
      const requests = dataset.problems.map((problem, index) => ({
        uid: `v${step}-${dataset.name}-${index}`,
        branch: 'validation' as const,
        problemIndex: index,
        problem,
        dataset: dataset.name,
        prompt: buildPrompt({ problem, dataset: dataset.name }),
        n,
        maxNewTokens: config.data.max_response_length,
      }));
      const groups = yield* generateGroups(requests, {
        step,
        round: 1,
        engine,
        config,
        rng: valRng,
        sampling: validationSampling(config),
        requestDefaults,
        signal,
        now,
      });
      yield* forward(scoreGroups(groups, { step, round: 1, reward, now }), note);
      const scores = groups.flatMap((group) => group.records.map((record) => record.reward.score));
      metrics[`val-core/${dataset.name}/reward/mean@${n}`] = mean(scores);
      if (valMetaN > 0) {
        // Held-out calibration: meta predictions on the same problems, against the true pass counts above.
        const metaRequests = requests.map((request) => ({
          ...request,
          uid: `${request.uid}${META_UID_SUFFIX}`,
          branch: 'meta' as const,
          prompt: buildMeta({ problem: request.problem, dataset: dataset.name, solutionPrompt: request.prompt, config }),
          n: valMetaN,
        }));
        const metaGroups = yield* generateGroups(metaRequests, {
          step,
          round: 2,
          engine,
          config,
          rng: valRng,
          sampling: validationSampling(config),
          requestDefaults,
          signal,
          now,
        });
        const valMeta = computeValidationMetaMetrics({
          config,
          questions: groups.map((group, index) => ({
            problem: group.problem,
            metaPrompt: (metaRequests[index] as (typeof metaRequests)[number]).prompt,
            solutions: group.records.map((record) => ({ text: record.text, correct: record.reward.acc > 0.5, tokens: record.responseTokenIds.length })),
            metaTexts: (metaGroups[index]?.records ?? []).map((record) => record.text),
          })),
        });
        for (const [key, value] of Object.entries(valMeta)) metrics[`val-meta/${dataset.name}/${key}`] = value;
      }
    }
    yield { type: 'validation-end', step, metrics, ms: now() - started };
    return metrics;
  }

  let lastMetrics: StepMetrics | undefined;
  if (checkpoint === undefined && trainerConfig.val_before_train && validation.length > 0) {
    const metrics = yield* validate(0);
    lastMetrics = { step: 0, ...metrics };
    runFolder.appendMetrics(lastMetrics);
  }

  // ---- steps ----
  let step = startStep;
  let reason: TrainResult['reason'] = 'completed';
  let lastSavedStep = checkpoint === undefined ? 0 : startStep;
  while (step < totalSteps) {
    if (stopRequested()) {
      if (step > lastSavedStep) yield await saveStepCheckpoint(step);
      reason = 'stopped';
      break;
    }
    if (signal?.aborted === true) {
      throw new MasaError('ABORTED', `training aborted before step ${step + 1}; run again with trainer.resume_mode=auto to continue from the last checkpoint`, {
        details: { step },
      });
    }
    const current = step + 1;
    const stepStarted = now();
    const lr = schedule.lrAt(current);
    const context: StepContext = {
      step: current,
      config,
      engine,
      backend,
      reward,
      train,
      loader,
      rng,
      buildPrompt,
      requestDefaults,
      lr,
      signal,
      now,
    };
    const loaderBefore = loader.getState();
    const nextEpoch = loaderBefore.batchIndex >= loader.batchesPerEpoch ? loaderBefore.epoch + 1 : loaderBefore.epoch;
    yield { type: 'step-start', step: current, epoch: nextEpoch, lr };

    // 1. rollouts and rewards
    const genStarted = now();
    const collected: CollectedStep | undefined = yield* forward(algorithm.collect(context), note);
    const genMs = now() - genStarted;
    if (collected === undefined) {
      reason = 'data-exhausted';
      break;
    }
    const metrics: StepMetrics = { step: current, 'training/global_step': current, 'training/epoch': collected.epoch, ...collected.metrics };
    const sequences = collected.groups.flatMap((group) =>
      group.records.map((record) => ({ group, record })),
    );

    if (sequences.length > 0) {
      // 2. old log-probs (from the rollout, or scored by the update: see below) and reference log-probs for a KL loss
      const logprobStarted = now();
      const policySequences = sequences.map(({ record }) => ({ promptTokenIds: record.promptTokenIds, responseTokenIds: record.responseTokenIds }));
      const logprobOptions = {
        backend,
        sequences: policySequences,
        temperature: config.actor_rollout_ref.rollout.temperature,
        maxTokens: config.actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu,
        step: current,
      };
      // PPO's old log-probs: the rollout engine's own of the same tokens (same policy, same temperature, whole
      // distribution: the config checks that), or the policy's again (verl). Those the update scores itself, before
      // its first optimiser step, and only for the sequences outside its first mini-batch, which trains on the policy
      // that sampled it and takes the update's own log-probs (verl's actor does that with a single mini-batch).
      const oldLogprobs = config.actor_rollout_ref.actor.recompute_old_log_prob ? undefined : sequences.map(({ record }) => rolloutLogprobs(record, current));
      let oldScoringMs = 0;
      const scoreOldLogprobs = async (indices: readonly number[]): Promise<number[][]> => {
        const started = now();
        const scored = await computeLogprobs({ ...logprobOptions, sequences: indices.map((index) => policySequences[index] as PolicySequence), positions: indices, policy: 'current' });
        oldScoringMs += now() - started;
        return scored;
      };
      const refLogprobs = config.actor_rollout_ref.actor.use_kl_loss ? await computeLogprobs({ ...logprobOptions, policy: 'reference' }) : undefined;
      const logprobMs = now() - logprobStarted;

      // 3. advantages per uid
      const advStarted = now();
      const updateSequences: UpdateSequence[] = sequences.map(({ group, record }) => ({
        promptTokenIds: record.promptTokenIds,
        responseTokenIds: record.responseTokenIds,
        uid: group.uid,
        reward: record.reward.score,
      }));
      const advantages = computeSequenceAdvantages(config, updateSequences, current);
      const advMs = now() - advStarted;

      // 4. update
      const updateStarted = now();
      const trainSequences: Array<Omit<TrainSequence, 'lossWeight'>> = policySequences.map((sequence, index) => ({
        ...sequence,
        advantage: advantages[index] as number,
        ...(oldLogprobs === undefined ? {} : { oldLogprobs: oldLogprobs[index] as number[] }),
        ...(refLogprobs === undefined ? {} : { refLogprobs: refLogprobs[index] as number[] }),
      }));
      const update = await runPolicyUpdate({
        backend,
        config,
        sequences: trainSequences,
        loss: policyLossSpec(config),
        miniBatchSize: algorithm.miniBatchSize(collected, config),
        ...(oldLogprobs === undefined ? { scoreOldLogprobs } : {}),
        lr,
        step: current,
        rng,
      });
      const updateMs = now() - updateStarted - oldScoringMs;
      yield {
        type: 'update-end',
        step: current,
        optimizerSteps: update.optimizerSteps,
        microBatches: update.microBatches,
        loss: mean(update.losses),
        gradNorm: mean(update.gradNorms),
        ms: updateMs,
      };
      if (update.skippedSteps > 0) {
        yield note({ type: 'warning', step: current, code: 'optimizer-step-skipped', message: `step ${current}: the backend skipped ${update.skippedSteps} optimiser step(s)` });
      }
      const afterMetrics = algorithm.afterUpdate === undefined ? {} : yield* forward(algorithm.afterUpdate(context, collected), note);

      // metrics
      const solution = sequences.filter(({ group }) => group.branch === 'solution');
      addStats(metrics, 'critic/score', solution.map(({ record }) => record.reward.score));
      addStats(metrics, 'critic/rewards', sequences.map(({ record }) => record.reward.score));
      addStats(metrics, 'critic/advantages', Array.from(advantages));
      addStats(metrics, 'response_length', sequences.map(({ record }) => record.responseTokenIds.length));
      metrics['response_length/clip_ratio'] = mean(sequences.map(({ record }) => (record.finishReason === 'stop' ? 0 : 1)));
      addStats(metrics, 'prompt_length', sequences.map(({ record }) => record.promptTokenIds.length));
      metrics['actor/pg_loss'] = mean(update.losses);
      metrics['actor/grad_norm'] = mean(update.gradNorms);
      metrics['actor/lr'] = lr;
      metrics['actor/optimizer_steps'] = update.optimizerSteps;
      metrics['actor/micro_batches'] = update.microBatches;
      if (update.skippedSteps > 0) metrics['actor/skipped_steps'] = update.skippedSteps;
      for (const [name, value] of Object.entries(update.metrics)) metrics[name.includes('/') ? name : `actor/${name}`] = value;
      Object.assign(metrics, afterMetrics);
      metrics['perf/total_num_tokens'] = sequences.reduce((sum, { record }) => sum + record.promptTokenIds.length + record.responseTokenIds.length, 0);
      // The MASA algorithms time generation, rewards and the gating audit themselves; otherwise generation + rewards.
      if (metrics['timing_s/gen'] === undefined) metrics['timing_s/gen'] = genMs / 1000;
      metrics['timing_s/collect'] = genMs / 1000;
      metrics['timing_s/old_log_prob'] = (logprobMs + oldScoringMs) / 1000;
      metrics['timing_s/adv'] = advMs / 1000;
      metrics['timing_s/update_actor'] = updateMs / 1000;

      const samples = sampleRecords(current, sequences, advantages, trainerConfig.samples_per_step);
      runFolder.appendSamples(samples);
    } else {
      yield note({ type: 'warning', step: current, code: 'empty-step', message: `step ${current}: no rollout group survived collection; the policy was not updated` });
    }

    step = current;
    const isLast = step === totalSteps || !loader.hasNext();
    if (trainerConfig.test_freq > 0 && validation.length > 0 && (step % trainerConfig.test_freq === 0 || isLast)) {
      const valStarted = now();
      Object.assign(metrics, yield* validate(step));
      metrics['timing_s/testing'] = (now() - valStarted) / 1000;
    }
    metrics['timing_s/step'] = (now() - stepStarted) / 1000;
    runFolder.appendMetrics(metrics);
    lastMetrics = metrics;

    if (trainerConfig.save_freq > 0 && (step % trainerConfig.save_freq === 0 || isLast)) yield await saveStepCheckpoint(step);
    yield { type: 'step-end', step, metrics };
    if (isLast && step < totalSteps) {
      reason = 'data-exhausted';
      break;
    }
  }
  yield { type: 'run-end', step, reason, ms: now() - runStarted };
  return { step, reason, lastMetrics, warnings };

  /** Checkpoints the state after `step` (the end of a step: loader, generator and weights are exactly there). */
  async function saveStepCheckpoint(step: number): Promise<TrainEvent> {
    const saveStarted = now();
    const state: TrainerState = {
      format: 'masa-rl-trainer-state',
      version: 1,
      step,
      algorithm: algorithm.name,
      loader: loader.getState(),
      rng: { trainer: rng.getState() },
      data: { name: train.name, size: train.problems.length, fingerprint: dataFingerprint(train) },
      algorithmState: algorithm.getState?.() ?? null,
    };
    const files: Record<string, CheckpointBlob> = {
      [TRAINER_STATE_FILE]: { json: state },
      [CONFIG_FILE]: configText,
    };
    for (const [name, bytes] of Object.entries(await backend.getState())) files[`${BACKEND_PREFIX}${name}`] = bytes;
    const saved = await saveCheckpoint({
      checkpointsDir: runFolder.checkpointsDir,
      step,
      files,
      write: (dir) => backend.saveWeights(join(dir, WEIGHTS_DIR)),
      keepLast: trainerConfig.max_actor_ckpt_to_keep,
    });
    lastSavedStep = step;
    return { type: 'checkpoint-saved', step, path: saved.path, removed: saved.removed, ms: now() - saveStarted };
  }
}

async function* forward<T>(generator: AsyncGenerator<TrainEvent, T>, note: (event: TrainEvent) => TrainEvent): AsyncGenerator<TrainEvent, T> {
  for (let result = await generator.next(); ; result = await generator.next()) {
    if (result.done === true) return result.value;
    yield note(result.value);
  }
}

function sampleRecords(
  step: number,
  sequences: ReadonlyArray<{ group: RolloutGroup; record: RolloutGroup['records'][number] }>,
  advantages: Float64Array,
  count: number,
): StepRecord[] {
  const out: StepRecord[] = [];
  const seen = new Set<string>();
  // The first sample of each group, in batch order, up to `count`.
  sequences.forEach(({ group, record }, index) => {
    if (out.length >= count || seen.has(group.uid)) return;
    seen.add(group.uid);
    out.push({
      step,
      uid: group.uid,
      branch: group.branch,
      dataset: group.dataset,
      problemId: group.problem.id,
      response: record.text,
      score: record.reward.score,
      acc: record.reward.acc,
      ...(Object.keys(record.reward.extra).length > 0 ? { rewardExtra: record.reward.extra } : {}),
      advantage: advantages[index] as number,
      responseLength: record.responseTokenIds.length,
      finishReason: record.finishReason,
    });
  });
  return out;
}

/** Runs {@link trainIter} to the end and returns its result. `onEvent` sees every event. */
export async function train(options: TrainOptions & { onEvent?: (event: TrainEvent) => void }): Promise<TrainResult> {
  const { onEvent, ...rest } = options;
  const iterator = trainIter(rest);
  for (let result = await iterator.next(); ; result = await iterator.next()) {
    if (result.done === true) return result.value;
    onEvent?.(result.value);
  }
}
