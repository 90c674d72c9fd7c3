import { MasaError } from '@masa-rl/core';
import { checkConfigNumber, checkFiniteWhereMasked, checkLength, checkResponseMask } from './input-checks.js';
import type { ErrorContext, NumberArrayLike } from './types.js';

/** verl clamps `logp − oldLogp` to ±20 before `exp`. */
export const LOG_RATIO_CLAMP = 20;

/** The three clip settings of the policy loss (see `PolicyLossConfig` for the verl keys). */
export interface ClipSettings {
  /** ε_low: the ratio is clipped below at `1 − ε_low` (verl `clip_ratio_low`). */
  clipRatioLow: number;
  /** ε_high: the ratio is clipped above at `1 + ε_high` (verl `clip_ratio_high`). */
  clipRatioHigh: number;
  /** c > 1: for A < 0 the loss is capped at `−A·c` (verl `clip_ratio_c`). */
  clipRatioC: number;
}

/** One token's policy loss, its derivative and its clip state (see {@link policyLossToken}). */
export interface PolicyTokenResult {
  /** The token loss `L`. */
  loss: number;
  /** `dL/dlogp`. */
  dLossDLogp: number;
  /** `ρ = exp(clamp(logp − oldLogp, −20, 20))`. */
  ratio: number;
  /** The clamped log-ratio `clamp(logp − oldLogp, −20, 20)` (ppo_kl averages its negative). */
  logRatio: number;
  /** `L2 > L1`: the ε clip binds (verl counts this in `pg_clipfrac`). */
  clipped: boolean;
  /** `A < 0` and `Lc > −A·c`: the dual clip binds (verl `pg_clipfrac_lower`). */
  dualClipped: boolean;
}

/** A fresh result object to pass as `out` to {@link policyLossToken}. */
export function createPolicyTokenResult(): PolicyTokenResult {
  return { loss: 0, dLossDLogp: 0, ratio: 1, logRatio: 0, clipped: false, dualClipped: false };
}

/**
 * The clipped (dual-clip) PPO loss of one token, verl's `vanilla` policy loss,
 * and its exact derivative with respect to `logp`. Formulas (the graph form
 * mirrors them op for op):
 *
 * ```
 * δ   = clamp(logp − oldLogp, −20, 20)        ρ  = exp(δ)
 * L1  = −A·ρ                                   L2 = −A·clamp(ρ, 1 − ε_low, 1 + ε_high)
 * Lc  = max(L1, L2)
 * L   = A < 0 ? min(Lc, −A·c) : Lc
 * ```
 *
 * Derivative, following PyTorch autograd: `dρ/dlogp = ρ` while
 * `−20 ≤ logp − oldLogp ≤ 20` (else 0); `dL1/dlogp = −A·dρ`; `dL2/dlogp =
 * −A·dρ` while `1 − ε_low ≤ ρ ≤ 1 + ε_high` (else 0); `max`/`min` pass the
 * gradient of the larger/smaller argument and split it half and half on an
 * exact tie; the constant `−A·c` has derivative 0.
 *
 * Writes into `out` (no allocation in hot loops) and returns it.
 */
export function policyLossToken(
  logp: number,
  oldLogp: number,
  advantage: number,
  clip: ClipSettings,
  out: PolicyTokenResult = createPolicyTokenResult(),
): PolicyTokenResult {
  const rawLogRatio = logp - oldLogp;
  const logRatio = Math.min(Math.max(rawLogRatio, -LOG_RATIO_CLAMP), LOG_RATIO_CLAMP);
  const ratio = Math.exp(logRatio);
  const dRatio = rawLogRatio >= -LOG_RATIO_CLAMP && rawLogRatio <= LOG_RATIO_CLAMP ? ratio : 0;
  const lower = 1 - clip.clipRatioLow;
  const upper = 1 + clip.clipRatioHigh;
  const clippedRatio = Math.min(Math.max(ratio, lower), upper);
  const loss1 = -advantage * ratio;
  const loss2 = -advantage * clippedRatio;
  const grad1 = -advantage * dRatio;
  const grad2 = ratio >= lower && ratio <= upper ? grad1 : 0;
  const lossClip = Math.max(loss1, loss2);
  const gradClip = loss1 > loss2 ? grad1 : loss1 < loss2 ? grad2 : 0.5 * (grad1 + grad2);
  let loss = lossClip;
  let grad = gradClip;
  let dualClipped = false;
  if (advantage < 0) {
    const loss3 = -advantage * clip.clipRatioC;
    dualClipped = lossClip > loss3;
    if (lossClip > loss3) {
      loss = loss3;
      grad = 0;
    } else if (lossClip === loss3) {
      grad = 0.5 * gradClip;
    }
  }
  // `+ 0` turns −0 (from −A·0) into 0
  out.loss = loss + 0;
  out.dLossDLogp = grad + 0;
  out.ratio = ratio;
  out.logRatio = logRatio;
  out.clipped = loss2 > loss1;
  out.dualClipped = dualClipped;
  return out;
}

/** Options of {@link computePolicyLoss}. */
export interface PolicyLossOptions extends Partial<ClipSettings> {
  /** Current policy log-probs of the sampled tokens, flat `[batch, seqLen]`. */
  logp: NumberArrayLike;
  /** Log-probs under the policy that generated the batch (verl `old_log_probs`), same shape. */
  oldLogp: NumberArrayLike;
  /** Per-token advantages, same shape (see `broadcastToTokens`). */
  advantages: NumberArrayLike;
  /** Flat `[batch, seqLen]` 0/1 response mask; padding entries are never read. */
  responseMask: NumberArrayLike;
  /** Padded response length. */
  seqLen: number;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/** Token-averaged policy-loss metrics, as verl logs them under `actor/*`. */
export interface PolicyLossMetrics {
  /** Fraction of response tokens where the ε clip binds, both sides (verl `actor/pg_clipfrac`). */
  pgClipfrac: number;
  /** Fraction of response tokens where the dual clip binds (verl `actor/pg_clipfrac_lower`). */
  pgClipfracLower: number;
  /** Fraction with A > 0 and ρ > 1 + ε_high (the upper side of `pgClipfrac`; not in verl). */
  pgClipfracRatioHigh: number;
  /** Fraction with A < 0 and ρ < 1 − ε_low (the lower side of `pgClipfrac`; not in verl). */
  pgClipfracRatioLow: number;
  /** Approximate KL `mean(oldLogp − logp)` with the ±20 clamp (verl `actor/ppo_kl`). */
  ppoKl: number;
  /** Mean, min and max of ρ over response tokens. */
  ratioMean: number;
  ratioMin: number;
  ratioMax: number;
  /** Number of response tokens the means are over (to combine micro-batches exactly). */
  validTokens: number;
}

/** Result of {@link computePolicyLoss}. */
export interface PolicyLossResult {
  /** Per-token losses `L`, flat `[batch, seqLen]`, 0 on padding. */
  losses: Float64Array;
  /** Per-token `dL/dlogp`, flat `[batch, seqLen]`, 0 on padding. */
  gradients: Float64Array;
  /** Token-averaged metrics. All 0 when there is no response token. */
  metrics: PolicyLossMetrics;
}

/**
 * Applies {@link policyLossToken} to every response token and averages the
 * clip and KL metrics over response tokens (verl's masked means, independent of
 * the aggregation mode). Aggregate `losses` with `aggregateLoss` for verl's
 * `pg_loss`. Clip settings default to MASA's 0.2 / 0.28 / 10.
 */
export function computePolicyLoss({
  logp,
  oldLogp,
  advantages,
  responseMask,
  seqLen,
  clipRatioLow = 0.2,
  clipRatioHigh = 0.28,
  clipRatioC = 10,
  context,
}: PolicyLossOptions): PolicyLossResult {
  checkConfigNumber('clipRatioLow', 'clip_ratio_low', clipRatioLow, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  checkConfigNumber('clipRatioHigh', 'clip_ratio_high', clipRatioHigh, (v) => v >= 0, 'a number >= 0');
  checkConfigNumber('clipRatioC', 'clip_ratio_c', clipRatioC, (v) => v > 1, 'a number > 1 (dual-clip bound)');
  checkResponseMask(responseMask, seqLen, context);
  const size = responseMask.length;
  checkLength('logp', logp, size, 'same shape as responseMask', context);
  checkLength('oldLogp', oldLogp, size, 'same shape as responseMask', context);
  checkLength('advantages', advantages, size, 'per token, same shape as responseMask; see broadcastToTokens', context);
  checkFiniteWhereMasked('logp', logp, responseMask, seqLen, context);
  checkFiniteWhereMasked('oldLogp', oldLogp, responseMask, seqLen, context);
  checkFiniteWhereMasked('advantages', advantages, responseMask, seqLen, context);
  const clip: ClipSettings = { clipRatioLow, clipRatioHigh, clipRatioC };
  const losses = new Float64Array(size); // [batch, seqLen]
  const gradients = new Float64Array(size); // [batch, seqLen]
  const token = createPolicyTokenResult();
  let valid = 0;
  let clipped = 0;
  let dualClipped = 0;
  let clippedHigh = 0;
  let clippedLow = 0;
  let negativeLogRatioSum = 0;
  let ratioSum = 0;
  let ratioMin = Infinity;
  let ratioMax = -Infinity;
  for (let index = 0; index < size; index++) {
    if (responseMask[index] !== 1) continue;
    const advantage = advantages[index] as number;
    policyLossToken(logp[index] as number, oldLogp[index] as number, advantage, clip, token);
    if (!Number.isFinite(token.loss)) {
      throw new MasaError(
        'NUMERIC_INSTABILITY',
        `policy loss of token ${index} (row ${Math.floor(index / seqLen)}) is ${String(token.loss)}`,
        { details: { index, ...context } },
      );
    }
    losses[index] = token.loss;
    gradients[index] = token.dLossDLogp;
    valid++;
    if (token.clipped) {
      clipped++;
      if (advantage > 0) clippedHigh++;
      else clippedLow++;
    }
    if (token.dualClipped) dualClipped++;
    negativeLogRatioSum -= token.logRatio;
    ratioSum += token.ratio;
    if (token.ratio < ratioMin) ratioMin = token.ratio;
    if (token.ratio > ratioMax) ratioMax = token.ratio;
  }
  const mean = (count: number): number => (valid === 0 ? 0 : count / valid);
  return {
    losses,
    gradients,
    metrics: {
      pgClipfrac: mean(clipped),
      pgClipfracLower: mean(dualClipped),
      pgClipfracRatioHigh: mean(clippedHigh),
      pgClipfracRatioLow: mean(clippedLow),
      ppoKl: mean(negativeLogRatioSum),
      ratioMean: mean(ratioSum),
      ratioMin: valid === 0 ? 0 : ratioMin,
      ratioMax: valid === 0 ? 0 : ratioMax,
      validTokens: valid,
    },
  };
}
