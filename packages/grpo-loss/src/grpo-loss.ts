import { MasaError } from '@masa-rl/core';
import { computeAggregationWeights } from './aggregation.js';
import { checkFiniteWhereMasked, checkLength, describeContext } from './input-checks.js';
import { computeKlPenalty } from './kl-penalty.js';
import { resolvePolicyLossConfig, type PolicyLossConfig, type ResolvedPolicyLossConfig } from './loss-config.js';
import { computePolicyLoss, type PolicyLossMetrics } from './policy-loss.js';
import type { ErrorContext, NumberArrayLike } from './types.js';

/** Options of {@link computeGrpoLoss}. */
export interface GrpoLossOptions {
  /** Current policy log-probs of the sampled tokens, flat `[batch, seqLen]` (verl `log_prob`). */
  logp: NumberArrayLike;
  /** Log-probs under the policy that generated the batch, same shape (verl `old_log_probs`). */
  oldLogp: NumberArrayLike;
  /** Per-token advantages, same shape (see `computeAdvantages` and `broadcastToTokens`). */
  advantages: NumberArrayLike;
  /** Flat `[batch, seqLen]` 0/1 response mask; padding entries of every array are never read. */
  responseMask: NumberArrayLike;
  /** Padded response length (columns). */
  seqLen: number;
  /** Reference policy log-probs, same shape (verl `ref_log_prob`); required when `useKlLoss`. */
  refLogp?: NumberArrayLike;
  /**
   * Per-token entropies of the current policy, same shape (verl `entropys`).
   * Required when `entropyCoeff ≠ 0`; when given, `metrics.entropy` is reported.
   */
  entropy?: NumberArrayLike;
  /** Loss settings; unset fields take MASA's defaults (see `PolicyLossConfig`). */
  config?: PolicyLossConfig;
  /**
   * `token-mean` divisor when this batch is a slice of a larger one (verl
   * `global_batch_info.batch_num_tokens`). Alternative to `computeMicroBatchWeights`.
   * @default Σ responseMask
   */
  batchNumTokens?: number | undefined;
  /**
   * `seq-mean-*` divisor when this batch is a slice of a larger one (verl
   * `global_batch_info.global_batch_size`).
   * @default number of rows with a response token
   */
  globalBatchSize?: number | undefined;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/** Metrics of one loss evaluation (verl `actor/*`). */
export interface ActorMetrics extends PolicyLossMetrics {
  /** The total loss (what is differentiated). */
  loss: number;
  /** Aggregated policy-gradient loss (verl `actor/pg_loss`). */
  pgLoss: number;
  /** Aggregated KL estimate (verl `actor/kl_loss`); present only when `useKlLoss`. */
  klLoss?: number;
  /** The KL coefficient β (verl `actor/kl_coef`); present only when `useKlLoss`. */
  klCoef?: number;
  /** Aggregated entropy (verl `actor/entropy`); present only when entropies were given. */
  entropy?: number;
}

/** Result of {@link computeGrpoLoss}. */
export interface GrpoLossResult {
  /** `pgLoss − entropyCoeff·entropyLoss + klLossCoef·klLoss` (the two extra terms only when enabled). */
  loss: number;
  /** `Σ W ⊙ L_pg`, verl's `pg_loss`. */
  pgLoss: number;
  /** `Σ W ⊙ kl` (0 when `useKlLoss` is false). */
  klLoss: number;
  /** `Σ W ⊙ H` (0 when no entropies were given). */
  entropyLoss: number;
  /** The aggregation weights `W` (flat `[batch, seqLen]`): `loss = Σ W ⊙ tokenLosses`. */
  tokenWeights: Float64Array;
  /** Per-token total losses `L_pg − entropyCoeff·H + β·kl` (each term only when enabled), 0 on padding. */
  tokenLosses: Float64Array;
  /** `dLoss/dlogp` per token: `W · (dL_pg/dlogp + β·dkl/dlogp)`, 0 on padding. */
  dLossDLogp: Float64Array;
  /**
   * `dLoss/dH` per token, `−entropyCoeff · W`, to chain through the entropy's
   * dependence on the logits; absent when `entropyCoeff` is 0.
   */
  dLossDEntropy?: Float64Array;
  /** Metrics of this evaluation. */
  metrics: ActorMetrics;
  /** The config with defaults filled in. */
  config: ResolvedPolicyLossConfig;
}

/**
 * The whole actor loss of one (micro-)batch with verl's semantics, and its
 * gradient with respect to every token's log-prob:
 *
 * ```
 * loss = Σ_t W_t · ( L_pg,t − entropyCoeff·H_t + [useKlLoss]·β·kl_t )
 * dLoss/dlogp_t = W_t · ( dL_pg,t/dlogp_t + [useKlLoss]·β·dkl_t/dlogp_t )
 * ```
 *
 * where `W` are the aggregation weights of `lossAggMode`
 * (`computeAggregationWeights`), `L_pg` the clipped policy loss
 * (`policyLossToken`) and `kl` the `klLossType` estimate (`computeKlPenalty`).
 * verl aggregates each term with the same mode and adds them the same way.
 * Throws NUMERIC_INSTABILITY (with `context` ids) for a non-finite input on a
 * response token or a non-finite loss.
 */
export function computeGrpoLoss({
  logp,
  oldLogp,
  advantages,
  responseMask,
  seqLen,
  refLogp,
  entropy,
  config,
  batchNumTokens,
  globalBatchSize,
  context,
}: GrpoLossOptions): GrpoLossResult {
  const resolved = resolvePolicyLossConfig(config);
  const policy = computePolicyLoss({
    logp,
    oldLogp,
    advantages,
    responseMask,
    seqLen,
    clipRatioLow: resolved.clipRatioLow,
    clipRatioHigh: resolved.clipRatioHigh,
    clipRatioC: resolved.clipRatioC,
    context,
  });
  const weights = computeAggregationWeights({
    responseMask,
    seqLen,
    lossAggMode: resolved.lossAggMode,
    lossScaleFactor: resolved.lossScaleFactor,
    batchNumTokens,
    globalBatchSize,
    context,
  });
  const size = responseMask.length;
  const tokenLosses = new Float64Array(size); // [batch, seqLen]
  const dLossDLogp = new Float64Array(size); // [batch, seqLen]
  let pgLoss = 0;
  for (let index = 0; index < size; index++) {
    const weight = weights[index] as number;
    const tokenLoss = policy.losses[index] as number;
    tokenLosses[index] = tokenLoss;
    dLossDLogp[index] = weight * (policy.gradients[index] as number);
    pgLoss += weight * tokenLoss;
  }

  let klLoss = 0;
  if (resolved.useKlLoss) {
    if (refLogp === undefined) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `useKlLoss is true but no refLogp was given: pass the reference policy's log-probs or set useKlLoss false${describeContext(context)}`,
        { details: { field: 'refLogp', ...context } },
      );
    }
    const kl = computeKlPenalty({
      logp,
      refLogp,
      responseMask,
      seqLen,
      klPenalty: resolved.klLossType,
      context,
    });
    const beta = resolved.klLossCoef;
    for (let index = 0; index < size; index++) {
      const weight = weights[index] as number;
      if (weight === 0) continue;
      const value = kl.values[index] as number;
      klLoss += weight * value;
      tokenLosses[index] = (tokenLosses[index] as number) + beta * value;
      dLossDLogp[index] = (dLossDLogp[index] as number) + weight * beta * (kl.gradients[index] as number);
    }
  }

  let entropyLoss = 0;
  let dLossDEntropy: Float64Array | undefined;
  if (resolved.entropyCoeff !== 0 && entropy === undefined) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `entropyCoeff is ${resolved.entropyCoeff} but no per-token entropy was given: pass entropy or set entropyCoeff 0${describeContext(context)}`,
      { details: { field: 'entropy', ...context } },
    );
  }
  if (entropy !== undefined) {
    checkLength('entropy', entropy, size, 'same shape as responseMask', context);
    checkFiniteWhereMasked('entropy', entropy, responseMask, seqLen, context);
    const coefficient = resolved.entropyCoeff;
    if (coefficient !== 0) dLossDEntropy = new Float64Array(size); // [batch, seqLen]
    for (let index = 0; index < size; index++) {
      const weight = weights[index] as number;
      if (weight === 0) continue;
      const value = entropy[index] as number;
      entropyLoss += weight * value;
      if (dLossDEntropy !== undefined) {
        tokenLosses[index] = (tokenLosses[index] as number) - coefficient * value;
        dLossDEntropy[index] = -coefficient * weight;
      }
    }
  }

  const loss = pgLoss - resolved.entropyCoeff * entropyLoss + (resolved.useKlLoss ? resolved.klLossCoef * klLoss : 0);
  if (!Number.isFinite(loss)) {
    throw new MasaError(
      'NUMERIC_INSTABILITY',
      `the actor loss is ${String(loss)} (pg ${pgLoss}, kl ${klLoss}, entropy ${entropyLoss})${describeContext(context)}`,
      { details: { pgLoss, klLoss, entropyLoss, ...context } },
    );
  }
  const metrics: ActorMetrics = {
    ...policy.metrics,
    loss,
    pgLoss,
    ...(resolved.useKlLoss ? { klLoss, klCoef: resolved.klLossCoef } : {}),
    ...(entropy === undefined ? {} : { entropy: entropyLoss }),
  };
  return {
    loss,
    pgLoss,
    klLoss,
    entropyLoss,
    tokenWeights: weights,
    tokenLosses,
    dLossDLogp,
    ...(dLossDEntropy === undefined ? {} : { dLossDEntropy }),
    metrics,
    config: resolved,
  };
}
