/**
 * The seam between the generic step (old log-probs, advantages, update,
 * metrics, checkpoints) and what each algorithm does differently: how the
 * batch of rollout groups is collected, how it is cut into optimiser steps,
 * and what runs after the update. `grpo` and `dapo` live here; the MASA
 * family plugs in through the same interface.
 */
import type { Problem, RolloutEngine, Rng } from '@masa-rl/core';
import { computeGroupStats } from '@masa-rl/grpo-loss';
import type { AlgorithmName, TrainerConfig } from './config-schema.js';
import type { DataLoader } from './data-loader.js';
import type { TrainEvent } from './events.js';
import type { PolicyBackend } from '@masa-rl/core';
import type { RewardFunction } from './reward.js';
import {
  generateGroups,
  scoreGroups,
  trainingSampling,
  type GroupRequest,
  type PromptBuilder,
  type RequestDefaults,
  type RolloutGroup,
} from './rollouts.js';

/** A dataset as the trainer takes it: a name (verl `data_source`) and its problems. */
export interface TrainDataset {
  name: string;
  problems: readonly Problem[];
}

/** Everything an algorithm may use during one step. */
export interface StepContext {
  step: number;
  config: TrainerConfig;
  engine: RolloutEngine;
  backend: PolicyBackend;
  reward: RewardFunction;
  train: TrainDataset;
  loader: DataLoader;
  /** The trainer's generator (checkpointed): request seeds, uids, shuffles. */
  rng: Rng;
  buildPrompt: PromptBuilder;
  requestDefaults: RequestDefaults;
  /** Learning rate of this step. */
  lr: number;
  signal: AbortSignal | undefined;
  now: () => number;
}

/** What an algorithm collected for one step. */
export interface CollectedStep {
  /** Rollout groups in training order: solution groups (prompt-major), then meta groups. */
  groups: RolloutGroup[];
  /** The data loader ran out while collecting (the run ends after this step). */
  exhausted: boolean;
  /** Epoch of the first batch of the step. */
  epoch: number;
  /** Algorithm-specific metrics (`train/num_gen_batches`, gating counts …). */
  metrics: Record<string, number>;
}

/** One training algorithm. */
export interface StepAlgorithm {
  readonly name: AlgorithmName;
  /** Generates and scores the step's rollout groups; `undefined` when the data ran out before anything was collected. */
  collect(context: StepContext): AsyncGenerator<TrainEvent, CollectedStep | undefined>;
  /** Sequences per optimiser step for this collected batch. */
  miniBatchSize(collected: CollectedStep, config: TrainerConfig): number;
  /** Work after the policy update (MASA's behaviour cloning); returns metrics. */
  afterUpdate?(context: StepContext, collected: CollectedStep): AsyncGenerator<TrainEvent, Record<string, number>>;
  /** State to checkpoint (JSON-serialisable). */
  getState?(): unknown;
  /** Restores {@link StepAlgorithm.getState}. */
  setState?(state: unknown): void;
}

/** The solution-group requests of a batch of dataset indices (uids `s<step>r<round>p<i>`). */
export function solutionRequests(context: StepContext, indices: readonly number[], round: number): GroupRequest[] {
  const { config, train, buildPrompt, step } = context;
  return indices.map((problemIndex, position) => {
    const problem = train.problems[problemIndex] as Problem;
    return {
      uid: `s${step}r${round}p${position}`,
      branch: 'solution',
      problemIndex,
      problem,
      dataset: train.name,
      prompt: buildPrompt({ problem, dataset: train.name }),
      n: config.actor_rollout_ref.rollout.n,
      maxNewTokens: config.data.max_response_length,
    };
  });
}

/** Generation options shared by training rollouts. */
export function generationOptions(context: StepContext, round: number) {
  return {
    step: context.step,
    round,
    engine: context.engine,
    config: context.config,
    rng: context.rng,
    sampling: trainingSampling(context.config),
    requestDefaults: context.requestDefaults,
    signal: context.signal,
    now: context.now,
  };
}

/** The value DAPO's filter looks at (verl `filter_groups.metric`). */
export function filterMetricValue(group: RolloutGroup, index: number, metric: 'acc' | 'score' | 'seq_reward'): number {
  const reward = (group.records[index] as RolloutGroup['records'][number]).reward;
  return metric === 'acc' ? reward.acc : reward.score;
}

/** Groups whose filter metric varies (kept by DAPO) and those with (near) zero variance (dropped). */
export function splitByVariance(groups: readonly RolloutGroup[], config: TrainerConfig): { kept: RolloutGroup[]; dropped: RolloutGroup[] } {
  const filter = config.algorithm.filter_groups;
  const values: number[] = [];
  const uids: string[] = [];
  for (const group of groups) {
    group.records.forEach((_, index) => {
      values.push(filterMetricValue(group, index, filter.metric));
      uids.push(group.uid);
    });
  }
  if (values.length === 0) return { kept: [], dropped: [] };
  const stats = computeGroupStats({ rewards: values, uids, zeroStdTolerance: filter.std_tolerance });
  const zero = new Set(stats.groups.filter((group) => group.zeroVariance).map((group) => group.uid));
  return { kept: groups.filter((group) => !zero.has(group.uid)), dropped: groups.filter((group) => zero.has(group.uid)) };
}

/**
 * Collects solution groups for `grpo` (one batch) or with DAPO's dynamic
 * sampling (`algorithm.filter_groups.enable`): drop groups whose filter metric
 * has zero variance, keep generating from the next batches until
 * `train_batch_size` groups are kept (then truncate to exactly that), at most
 * `max_num_gen_batches` rounds (0 = no cap). A step that hits the cap or the
 * end of the data trains on what it kept and warns.
 */
export async function* collectSolutionGroups(context: StepContext): AsyncGenerator<TrainEvent, CollectedStep | undefined> {
  const { config, loader, step } = context;
  const filter = config.algorithm.filter_groups;
  const target = config.data.train_batch_size;
  const kept: RolloutGroup[] = [];
  let dropped = 0;
  let generated = 0;
  let round = 0;
  let epoch: number | undefined;
  let exhausted = false;
  for (;;) {
    const batch = loader.next();
    if (batch === undefined) {
      exhausted = true;
      break;
    }
    epoch ??= batch.epoch;
    round += 1;
    const groups = yield* generateGroups(solutionRequests(context, batch.indices, round), generationOptions(context, round));
    yield* scoreGroups(groups, { step, round, reward: context.reward, now: context.now });
    generated += groups.length;
    if (!filter.enable) {
      kept.push(...groups);
      break;
    }
    const split = splitByVariance(groups, config);
    kept.push(...split.kept);
    dropped += split.dropped.length;
    if (kept.length >= target) {
      kept.length = target;
      break;
    }
    if (filter.max_num_gen_batches > 0 && round >= filter.max_num_gen_batches) {
      yield {
        type: 'warning',
        step,
        code: 'dapo-gen-cap',
        message: `step ${step}: dynamic sampling kept ${kept.length} of ${target} groups after ${round} generation rounds (algorithm.filter_groups.max_num_gen_batches); training on what was kept. Too many prompts are all-correct or all-wrong: raise the cap or change the data`,
      };
      break;
    }
  }
  if (epoch === undefined) return undefined;
  if (filter.enable && exhausted && kept.length < target) {
    yield {
      type: 'warning',
      step,
      code: 'data-exhausted',
      message: `step ${step}: the training data ran out while dynamic sampling had ${kept.length} of ${target} groups; training on what was kept`,
    };
  }
  const metrics: Record<string, number> = { 'train/num_gen_batches': round };
  if (filter.enable) {
    metrics['train/kept_groups'] = kept.length;
    metrics['train/dropped_groups'] = dropped;
    metrics['train/generated_groups'] = generated;
  }
  return { groups: kept, exhausted, epoch, metrics };
}

/** Prompts per optimiser step: `actor.ppo_mini_batch_size`, else `data.train_batch_size`. */
export function miniBatchPrompts(config: TrainerConfig): number {
  return config.actor_rollout_ref.actor.ppo_mini_batch_size ?? config.data.train_batch_size;
}

/** verl's mini-batch in sequences: `ppo_mini_batch_size × rollout.n`. */
export function verlMiniBatchSize(config: TrainerConfig): number {
  return miniBatchPrompts(config) * config.actor_rollout_ref.rollout.n;
}

/** `grpo` and `dapo` (dynamic sampling when `algorithm.filter_groups.enable`). */
export function createSolutionAlgorithm(name: AlgorithmName): StepAlgorithm {
  return {
    name,
    collect: collectSolutionGroups,
    miniBatchSize: (_collected, config) => verlMiniBatchSize(config),
  };
}
