/**
 * Learning-rate schedules with verl semantics: linear warm-up from 0, then
 * constant or cosine decay. The schedule advances once per *training* step
 * (not per optimiser step), so every optimiser step of one training step uses
 * the same rate.
 */
import { MasaError } from '@masa-rl/core';
import type { TrainerConfig } from './config-schema.js';

export interface LrScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  /** Linear warm-up length in training steps. @default 0 */
  warmupSteps?: number;
  /** Total training steps (the cosine schedule reaches its floor at the last step). */
  totalSteps: number;
  /** Shape after warm-up. @default 'constant' */
  style?: 'constant' | 'cosine';
  /** Cosine floor as a fraction of `lr`. @default 0 */
  minLrRatio?: number;
  /**
   * verl parity: the scheduler starts at index 0 and steps after each training
   * step, so training step s (1-based) uses index s − 1 and the first step runs
   * at lr = 0. Off: step s uses index s (the first step already warms up).
   * @default false
   */
  zeroLrFirstStep?: boolean;
}

/** A learning-rate schedule over 1-based training steps. */
export interface LrSchedule {
  /** Learning rate of training step `step` (1-based). */
  lrAt(step: number): number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
}

/**
 * Creates a schedule. Factor at scheduler index i (w = warm-up steps, T = total):
 * warm-up `i / max(1, w)` while i < w; then 1 (constant) or
 * `m + (1 − m)·½·(1 + cos(π·p))` with `p = (i − w) / max(1, T − w)` clamped to [0, 1] (cosine).
 */
export function createLrSchedule(options: LrScheduleOptions): LrSchedule {
  const { lr, warmupSteps = 0, totalSteps, style = 'constant', minLrRatio = 0, zeroLrFirstStep = false } = options;
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new MasaError('CONFIG_INVALID', `learning rate must be a finite number >= 0, got ${lr}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new MasaError('CONFIG_INVALID', `warm-up steps must be an integer >= 0, got ${warmupSteps}`);
  }
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new MasaError('CONFIG_INVALID', `total training steps must be an integer >= 1, got ${totalSteps}`);
  }
  const factor = (index: number): number => {
    if (index < warmupSteps) return index / Math.max(1, warmupSteps);
    if (style === 'constant') return 1;
    const progress = Math.min(1, Math.max(0, (index - warmupSteps) / Math.max(1, totalSteps - warmupSteps)));
    return minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
  return {
    warmupSteps,
    totalSteps,
    lrAt(step) {
      if (!Number.isInteger(step) || step < 1) throw new RangeError(`training steps are 1-based integers, got ${step}`);
      return lr * factor(zeroLrFirstStep ? step - 1 : step);
    },
  };
}

/** The actor's schedule from a resolved config (verl: warm-up −1 → `floor(ratio × total)`). */
export function createLrScheduleFromConfig(config: TrainerConfig, totalSteps: number): LrSchedule {
  const optim = config.actor_rollout_ref.actor.optim;
  const warmupSteps = optim.lr_warmup_steps >= 0 ? optim.lr_warmup_steps : Math.floor(optim.lr_warmup_steps_ratio * totalSteps);
  return createLrSchedule({
    lr: optim.lr,
    warmupSteps,
    totalSteps,
    style: optim.warmup_style,
    minLrRatio: optim.min_lr_ratio,
    zeroLrFirstStep: optim.zero_lr_first_step,
  });
}
