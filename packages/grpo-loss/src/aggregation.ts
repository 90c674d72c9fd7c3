import { MasaError } from '@masa-rl/core';
import {
  checkConfigNumber,
  checkFiniteWhereMasked,
  checkLength,
  checkResponseMask,
  describeContext,
} from './input-checks.js';
import { LOSS_AGG_MODES, type ErrorContext, type LossAggMode, type NumberArrayLike } from './types.js';

/**
 * The `1e-8` verl adds to each sequence's token count in `seq-mean-token-mean`
 * (`Σ_t m·L / (n_i + 1e-8)`). Kept for parity.
 */
export const SEQ_MEAN_TOKEN_COUNT_EPSILON = 1e-8;

/** Options shared by {@link computeAggregationWeights} and {@link aggregateLoss}. */
export interface AggregationOptions {
  /** Flat `[batch, seqLen]` 0/1 response mask. */
  responseMask: NumberArrayLike;
  /** Padded response length (columns of the mask). */
  seqLen: number;
  /**
   * How token losses become one scalar (verl `actor.loss_agg_mode`).
   * @default 'token-mean'
   */
  lossAggMode?: LossAggMode;
  /**
   * Divisor of `seq-mean-token-sum-norm` (verl `actor.loss_scale_factor`).
   * Set it to a constant (e.g. the max response length) to keep it fixed when
   * batches are padded to different lengths.
   * @default seqLen
   */
  lossScaleFactor?: number | undefined;
  /**
   * Divisor of `token-mean` (verl `global_batch_info.batch_num_tokens`): the
   * number of response tokens of the whole (mini-)batch when this matrix is a
   * micro-batch of it.
   * @default Σ responseMask
   */
  batchNumTokens?: number | undefined;
  /**
   * Divisor of the `seq-mean-*` modes except `-norm` (verl
   * `global_batch_info.global_batch_size`): the number of sequences of the
   * whole (mini-)batch.
   * @default number of rows with at least one response token
   */
  globalBatchSize?: number | undefined;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/** Throws CONFIG_INVALID unless `mode` is one of {@link LOSS_AGG_MODES}. */
export function checkLossAggMode(mode: string): asserts mode is LossAggMode {
  if (!(LOSS_AGG_MODES as readonly string[]).includes(mode)) {
    throw new MasaError(
      'CONFIG_INVALID',
      `unknown loss_agg_mode "${mode}": use one of ${LOSS_AGG_MODES.join(', ')} (verl actor.loss_agg_mode)`,
      { details: { field: 'lossAggMode', value: mode } },
    );
  }
}

/**
 * The token weights `W` (flat `[batch, seqLen]`, 0 on padding) such that the
 * aggregated loss is `Σ_{i,t} W_it · L_it` for any token-loss matrix `L`.
 * Every mode is linear in `L`, so `W` is also `dLoss/dL`: the graph form of
 * the loss is `ReduceSum(L ⊙ W)` with `W` fed as an input.
 *
 * With `n_i = Σ_t m_it`, `N = batchNumTokens ?? Σ n_i`, `S = globalBatchSize ?? #{i : n_i > 0}`:
 * - `token-mean`: `W_it = m_it / N`
 * - `seq-mean-token-mean`: `W_it = m_it / ((n_i + 1e-8) · S)`
 * - `seq-mean-token-sum`: `W_it = m_it / S`
 * - `seq-mean-token-sum-norm`: `W_it = m_it / lossScaleFactor` (default `seqLen`)
 *
 * A matrix with no response token at all gets all-zero weights, so its loss is
 * 0 (verl would divide 0 by 0).
 */
export function computeAggregationWeights({
  responseMask,
  seqLen,
  lossAggMode = 'token-mean',
  lossScaleFactor,
  batchNumTokens,
  globalBatchSize,
  context,
}: AggregationOptions): Float64Array {
  checkLossAggMode(lossAggMode);
  const batch = checkResponseMask(responseMask, seqLen, context);
  if (lossScaleFactor !== undefined) {
    checkConfigNumber('lossScaleFactor', 'actor.loss_scale_factor', lossScaleFactor, (v) => v > 0, 'a number > 0');
  }
  if (batchNumTokens !== undefined) {
    checkConfigNumber('batchNumTokens', 'global_batch_info.batch_num_tokens', batchNumTokens, (v) => v > 0, 'a number > 0');
  }
  if (globalBatchSize !== undefined) {
    checkConfigNumber('globalBatchSize', 'global_batch_info.global_batch_size', globalBatchSize, (v) => v > 0, 'a number > 0');
  }
  const counts = new Float64Array(batch); // [batch] response tokens per row
  let totalTokens = 0;
  let validRows = 0;
  for (let row = 0; row < batch; row++) {
    let count = 0;
    for (let col = 0; col < seqLen; col++) count += responseMask[row * seqLen + col] as number;
    counts[row] = count;
    totalTokens += count;
    if (count > 0) validRows++;
  }
  const weights = new Float64Array(responseMask.length); // [batch, seqLen]
  if (totalTokens === 0) return weights;
  for (let row = 0; row < batch; row++) {
    const count = counts[row] as number;
    if (count === 0) continue;
    let rowWeight: number;
    switch (lossAggMode) {
      case 'token-mean':
        rowWeight = 1 / (batchNumTokens ?? totalTokens);
        break;
      case 'seq-mean-token-mean':
        rowWeight = 1 / ((count + SEQ_MEAN_TOKEN_COUNT_EPSILON) * (globalBatchSize ?? validRows));
        break;
      case 'seq-mean-token-sum':
        rowWeight = 1 / (globalBatchSize ?? validRows);
        break;
      case 'seq-mean-token-sum-norm':
        rowWeight = 1 / (lossScaleFactor ?? seqLen);
        break;
    }
    const base = row * seqLen;
    for (let col = 0; col < seqLen; col++) {
      if (responseMask[base + col] === 1) weights[base + col] = rowWeight;
    }
  }
  return weights;
}

/** Options of {@link aggregateLoss}. */
export interface AggregateLossOptions extends AggregationOptions {
  /** Per-token values `L`, flat `[batch, seqLen]`; entries on padding are ignored. */
  values: NumberArrayLike;
}

/**
 * Aggregates a token matrix into one scalar with verl's `agg_loss` semantics
 * (see {@link computeAggregationWeights} for the formulas). Padding entries are
 * never read, so they may hold anything (verl multiplies them by 0, which
 * turns a NaN on padding into a NaN loss; here it is ignored).
 */
export function aggregateLoss(options: AggregateLossOptions): number {
  const { values, responseMask, seqLen, context } = options;
  const weights = computeAggregationWeights(options);
  checkLength('values', values, responseMask.length, 'same shape as responseMask', context);
  checkFiniteWhereMasked('values', values, responseMask, seqLen, context);
  let total = 0;
  for (let index = 0; index < weights.length; index++) {
    const weight = weights[index] as number;
    if (weight !== 0) total += weight * (values[index] as number);
  }
  return total;
}

/** Options of {@link computeMicroBatchWeights}. */
export interface MicroBatchWeightOptions {
  /** The whole mini-batch's flat `[batch, seqLen]` 0/1 response mask. */
  responseMask: NumberArrayLike;
  /** Padded response length (columns of the mask). */
  seqLen: number;
  /**
   * The split: row indices of the mini-batch for each micro-batch. Every row
   * must appear in exactly one micro-batch (any order, e.g. after token
   * balancing).
   */
  microBatches: readonly (readonly number[])[];
  /**
   * The aggregation mode used for both the mini-batch and each micro-batch.
   * @default 'token-mean'
   */
  lossAggMode?: LossAggMode;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/**
 * Weights `w_k` such that `Σ_k w_k · loss_k = loss(mini-batch)` exactly, where
 * `loss_k` is micro-batch k aggregated on its own (its rows gathered with the
 * same `seqLen`, default normalisers, the same `lossScaleFactor`). The trainer
 * scales each micro-batch's loss and gradients by `w_k` and accumulates.
 * With `N_k` response tokens and `S_k` non-empty rows in micro-batch k:
 * - `token-mean`: `w_k = N_k / N` (the exact global token-mean; verl's dynamic
 *   batching uses `#rows_k / #rows`, an approximation);
 * - `seq-mean-token-mean`, `seq-mean-token-sum`: `w_k = S_k / S`;
 * - `seq-mean-token-sum-norm`: `w_k = 1` (the loss is a plain sum over sequences).
 *
 * A micro-batch without response tokens gets weight 0 (its loss is 0).
 */
export function computeMicroBatchWeights({
  responseMask,
  seqLen,
  microBatches,
  lossAggMode = 'token-mean',
  context,
}: MicroBatchWeightOptions): Float64Array {
  checkLossAggMode(lossAggMode);
  const batch = checkResponseMask(responseMask, seqLen, context);
  const seen = new Uint8Array(batch);
  const tokensPerMicro = new Float64Array(microBatches.length);
  const rowsPerMicro = new Float64Array(microBatches.length);
  let totalTokens = 0;
  let totalRows = 0;
  microBatches.forEach((rows, k) => {
    for (const row of rows) {
      if (!Number.isInteger(row) || row < 0 || row >= batch) {
        throw new MasaError(
          'ARGUMENT_INVALID',
          `microBatches[${k}] contains ${String(row)}, not a row index of the mini-batch of ${batch}${describeContext(context)}`,
          { details: { microBatch: k, row, batch, ...context } },
        );
      }
      if (seen[row] === 1) {
        throw new MasaError(
          'ARGUMENT_INVALID',
          `row ${row} appears in more than one micro-batch (again in microBatches[${k}]): each row must be used once${describeContext(context)}`,
          { details: { microBatch: k, row, ...context } },
        );
      }
      seen[row] = 1;
      let count = 0;
      for (let col = 0; col < seqLen; col++) count += responseMask[row * seqLen + col] as number;
      tokensPerMicro[k] = (tokensPerMicro[k] as number) + count;
      totalTokens += count;
      if (count > 0) {
        rowsPerMicro[k] = (rowsPerMicro[k] as number) + 1;
        totalRows++;
      }
    }
  });
  const missing = seen.indexOf(0);
  if (missing !== -1) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `row ${missing} of the mini-batch is in no micro-batch: every row must be assigned to exactly one${describeContext(context)}`,
      { details: { row: missing, ...context } },
    );
  }
  const weights = new Float64Array(microBatches.length);
  for (let k = 0; k < microBatches.length; k++) {
    const tokens = tokensPerMicro[k] as number;
    if (tokens === 0) continue;
    switch (lossAggMode) {
      case 'token-mean':
        weights[k] = tokens / totalTokens;
        break;
      case 'seq-mean-token-mean':
      case 'seq-mean-token-sum':
        weights[k] = (rowsPerMicro[k] as number) / totalRows;
        break;
      case 'seq-mean-token-sum-norm':
        weights[k] = 1;
        break;
    }
  }
  return weights;
}
