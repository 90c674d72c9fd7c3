import { MasaError } from '@masa-rl/core';
import { computeGroupStats, type GroupStatsResult } from './group-stats.js';
import { ADVANTAGE_ESTIMATORS, type AdvantageEstimator, type ErrorContext, type NumberArrayLike } from './types.js';

/** Options of {@link computeAdvantages}. */
export interface AdvantageOptions {
  /** One scalar reward per sequence (verl sums `token_level_rewards` over the response). */
  rewards: NumberArrayLike;
  /**
   * One group id per sequence (verl `uid`). Sequences with the same uid are the
   * rollouts of one prompt; MASA's meta rollouts use `uid + "_meta_cog"` so the
   * two branches never mix.
   */
  uids: readonly string[];
  /**
   * The estimator (verl `algorithm.adv_estimator`; `dr-grpo` is verl's `grpo`
   * with `norm_adv_by_std_in_grpo=false`).
   * @default 'grpo'
   */
  estimator?: AdvantageEstimator;
  /**
   * Divide by the group std (verl `algorithm.norm_adv_by_std_in_grpo`). Only
   * read by `grpo`; `dr-grpo` means false and rejects an explicit true.
   * @default true
   */
  normAdvByStdInGrpo?: boolean;
  /**
   * Added to the std before dividing (verl's `epsilon` argument).
   * @default 1e-6
   */
  epsilon?: number;
  /**
   * Passed to {@link computeGroupStats} for the zero-variance flags.
   * @default 1e-6
   */
  zeroStdTolerance?: number | undefined;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/** Result of {@link computeAdvantages}. */
export interface AdvantageResult {
  /** One advantage per sequence, `[batch]`. Broadcast with `broadcastToTokens`. */
  advantages: Float64Array;
  /** The group statistics the advantages were computed from. */
  groupStats: GroupStatsResult;
}

/**
 * Outcome advantages per sequence, grouped by uid, with verl's semantics.
 * For a group g with n members, mean μ and unbiased std σ (n−1):
 *
 * - `grpo`: `A_i = (r_i − μ) / (σ + ε)`; a group of size 1 uses μ = 0, σ = 1,
 *   so `A_i = r_i / (1 + ε)`. A zero-variance group gets `A = 0`.
 * - `grpo` with `normAdvByStdInGrpo: false`, or `dr-grpo`: `A_i = r_i − μ`
 *   (size 1: `A_i = r_i`).
 * - `rloo`: `A_i = (r_i − μ) · n / (n − 1)`, which equals `r_i` minus the mean
 *   of the other n−1 rewards; a group of size 1 keeps `A_i = r_i` (verl leaves
 *   the score untouched).
 *
 * Computed in float64 (verl computes in the reward tensor's dtype, float32).
 */
export function computeAdvantages({
  rewards,
  uids,
  estimator = 'grpo',
  normAdvByStdInGrpo,
  epsilon = 1e-6,
  zeroStdTolerance = 1e-6,
  context,
}: AdvantageOptions): AdvantageResult {
  if (!ADVANTAGE_ESTIMATORS.includes(estimator)) {
    throw new MasaError(
      'CONFIG_INVALID',
      `unknown advantage estimator "${String(estimator)}" (verl algorithm.adv_estimator): use one of ${ADVANTAGE_ESTIMATORS.join(', ')}`,
      { details: { field: 'estimator', value: estimator } },
    );
  }
  if (estimator === 'dr-grpo' && normAdvByStdInGrpo === true) {
    throw new MasaError(
      'CONFIG_INVALID',
      'estimator "dr-grpo" never divides by the std, but normAdvByStdInGrpo is true: drop the flag or use estimator "grpo"',
      { details: { field: 'normAdvByStdInGrpo', estimator } },
    );
  }
  if (!Number.isFinite(epsilon) || epsilon < 0) {
    throw new MasaError('CONFIG_INVALID', `epsilon must be a finite number >= 0, got ${String(epsilon)}`, {
      details: { field: 'epsilon', value: epsilon },
    });
  }
  const groupStats = computeGroupStats({ rewards, uids, zeroStdTolerance, context });
  const divideByStd = estimator === 'grpo' && normAdvByStdInGrpo !== false;
  const advantages = new Float64Array(rewards.length);
  for (const group of groupStats.groups) {
    const { size } = group;
    for (const i of group.indices) {
      const reward = rewards[i] as number;
      let advantage: number;
      if (estimator === 'rloo') {
        advantage = size > 1 ? ((reward - group.mean) * size) / (size - 1) : reward;
      } else {
        const mean = size > 1 ? group.mean : 0;
        const std = size > 1 ? group.std : 1;
        advantage = divideByStd ? (reward - mean) / (std + epsilon) : reward - mean;
      }
      advantages[i] = advantage;
    }
  }
  return { advantages, groupStats };
}
