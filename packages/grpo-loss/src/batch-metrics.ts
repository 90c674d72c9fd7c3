import { checkConfigNumber, checkLength } from './input-checks.js';
import { computeGroupStats } from './group-stats.js';
import type { ActorMetrics } from './grpo-loss.js';
import { responseLengths } from './token-matrix.js';
import type { ErrorContext, NumberArrayLike } from './types.js';

/** Options of {@link computeBatchMetrics}. */
export interface BatchMetricsOptions {
  /** One scalar reward per sequence. */
  rewards: NumberArrayLike;
  /** One uid per sequence (for the zero-variance fraction). */
  uids: readonly string[];
  /** One advantage per sequence (as `computeAdvantages` returns them). */
  advantages: NumberArrayLike;
  /** Flat `[batch, seqLen]` 0/1 response mask. */
  responseMask: NumberArrayLike;
  /** Padded response length. */
  seqLen: number;
  /**
   * The generation budget: a response of this many tokens was truncated
   * (verl `data.max_response_length`).
   * @default seqLen
   */
  maxResponseLength?: number | undefined;
  /**
   * Passed to `computeGroupStats`.
   * @default 1e-6
   */
  zeroStdTolerance?: number | undefined;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/**
 * Batch-level training metrics that make sense without a critic (verl's
 * `critic/*` and `response_length/*` from `compute_data_metrics`). Standard
 * deviations here are population (1/n) statistics.
 */
export interface BatchMetrics {
  /** Sequences in the batch. */
  sequences: number;
  /** Distinct uids. */
  groups: number;
  /** Mean / max / min / std of the sequence rewards (verl `critic/score/*`; no KL in reward, so also `critic/rewards/*`). */
  rewardMean: number;
  rewardMax: number;
  rewardMin: number;
  rewardStd: number;
  /**
   * Mean / max / min / std of the advantages over response tokens (each
   * sequence weighted by its length, as verl's masked `critic/advantages/*`).
   * All 0 when there is no response token.
   */
  advantageMean: number;
  advantageMax: number;
  advantageMin: number;
  advantageStd: number;
  /** Fraction of uid groups whose rewards all agree (`frac_reward_zero_std`). */
  fracRewardZeroStd: number;
  /** Response lengths in tokens, incl. EOS (verl `response_length/mean|max|min`). */
  responseLengthMean: number;
  responseLengthMax: number;
  responseLengthMin: number;
  /** Fraction of responses of exactly `maxResponseLength` tokens (verl `response_length/clip_ratio`). */
  responseLengthClipRatio: number;
  /** Response tokens in the batch. */
  responseTokens: number;
}

/** Computes {@link BatchMetrics} from one step's rewards, advantages and mask. */
export function computeBatchMetrics({
  rewards,
  uids,
  advantages,
  responseMask,
  seqLen,
  maxResponseLength,
  zeroStdTolerance,
  context,
}: BatchMetricsOptions): BatchMetrics {
  const lengths = responseLengths(responseMask, seqLen, context);
  const batch = lengths.length;
  checkLength('rewards', rewards, batch, 'one per sequence (row of responseMask)', context);
  checkLength('advantages', advantages, batch, 'one per sequence (row of responseMask)', context);
  const budget = maxResponseLength ?? seqLen;
  checkConfigNumber('maxResponseLength', 'data.max_response_length', budget, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  const stats = computeGroupStats({ rewards, uids, zeroStdTolerance, context });

  let rewardSum = 0;
  let rewardMax = -Infinity;
  let rewardMin = Infinity;
  let tokens = 0;
  let advantageSum = 0;
  let advantageMax = -Infinity;
  let advantageMin = Infinity;
  let lengthMax = -Infinity;
  let lengthMin = Infinity;
  let truncated = 0;
  for (let row = 0; row < batch; row++) {
    const reward = rewards[row] as number;
    rewardSum += reward;
    rewardMax = Math.max(rewardMax, reward);
    rewardMin = Math.min(rewardMin, reward);
    const length = lengths[row] as number;
    lengthMax = Math.max(lengthMax, length);
    lengthMin = Math.min(lengthMin, length);
    if (length === budget) truncated++;
    if (length > 0) {
      const advantage = advantages[row] as number;
      tokens += length;
      advantageSum += length * advantage;
      advantageMax = Math.max(advantageMax, advantage);
      advantageMin = Math.min(advantageMin, advantage);
    }
  }
  const rewardMean = rewardSum / batch;
  const advantageMean = tokens === 0 ? 0 : advantageSum / tokens;
  let rewardSquares = 0;
  let advantageSquares = 0;
  for (let row = 0; row < batch; row++) {
    const rewardDeviation = (rewards[row] as number) - rewardMean;
    rewardSquares += rewardDeviation * rewardDeviation;
    const advantageDeviation = (advantages[row] as number) - advantageMean;
    advantageSquares += (lengths[row] as number) * advantageDeviation * advantageDeviation;
  }
  return {
    sequences: batch,
    groups: stats.groups.length,
    rewardMean,
    rewardMax,
    rewardMin,
    rewardStd: Math.sqrt(rewardSquares / batch),
    advantageMean,
    advantageMax: tokens === 0 ? 0 : advantageMax,
    advantageMin: tokens === 0 ? 0 : advantageMin,
    advantageStd: tokens === 0 ? 0 : Math.sqrt(advantageSquares / tokens),
    fracRewardZeroStd: stats.fracRewardZeroStd,
    responseLengthMean: lengths.reduce((sum, length) => sum + length, 0) / batch,
    responseLengthMax: lengthMax,
    responseLengthMin: lengthMin,
    responseLengthClipRatio: truncated / batch,
    responseTokens: tokens,
  };
}

/**
 * Flattens metrics into verl's metric names (for `metrics.jsonl` and
 * dashboards). verl names where verl has them (`critic/score/mean`,
 * `critic/advantages/max`, `response_length/clip_ratio`, `actor/pg_clipfrac`,
 * `actor/ppo_kl`, `actor/pg_clipfrac_lower`, `actor/pg_loss`, `actor/kl_loss`,
 * `actor/kl_coef`, `actor/entropy`); the rest under the same prefixes
 * (`critic/score/std`, `critic/frac_reward_zero_std`, `actor/ratio_mean` …).
 */
export function toVerlMetrics(batch?: BatchMetrics, actor?: ActorMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  if (batch !== undefined) {
    for (const prefix of ['critic/score', 'critic/rewards']) {
      out[`${prefix}/mean`] = batch.rewardMean;
      out[`${prefix}/max`] = batch.rewardMax;
      out[`${prefix}/min`] = batch.rewardMin;
    }
    out['critic/score/std'] = batch.rewardStd;
    out['critic/advantages/mean'] = batch.advantageMean;
    out['critic/advantages/max'] = batch.advantageMax;
    out['critic/advantages/min'] = batch.advantageMin;
    out['critic/advantages/std'] = batch.advantageStd;
    out['critic/frac_reward_zero_std'] = batch.fracRewardZeroStd;
    out['response_length/mean'] = batch.responseLengthMean;
    out['response_length/max'] = batch.responseLengthMax;
    out['response_length/min'] = batch.responseLengthMin;
    out['response_length/clip_ratio'] = batch.responseLengthClipRatio;
    out['batch/sequences'] = batch.sequences;
    out['batch/groups'] = batch.groups;
    out['batch/response_tokens'] = batch.responseTokens;
  }
  if (actor !== undefined) {
    out['actor/loss'] = actor.loss;
    out['actor/pg_loss'] = actor.pgLoss;
    out['actor/pg_clipfrac'] = actor.pgClipfrac;
    out['actor/pg_clipfrac_lower'] = actor.pgClipfracLower;
    out['actor/pg_clipfrac_ratio_high'] = actor.pgClipfracRatioHigh;
    out['actor/pg_clipfrac_ratio_low'] = actor.pgClipfracRatioLow;
    out['actor/ppo_kl'] = actor.ppoKl;
    out['actor/ratio_mean'] = actor.ratioMean;
    out['actor/ratio_min'] = actor.ratioMin;
    out['actor/ratio_max'] = actor.ratioMax;
    out['actor/valid_tokens'] = actor.validTokens;
    if (actor.klLoss !== undefined) out['actor/kl_loss'] = actor.klLoss;
    if (actor.klCoef !== undefined) out['actor/kl_coef'] = actor.klCoef;
    if (actor.entropy !== undefined) out['actor/entropy'] = actor.entropy;
  }
  return out;
}
