/**
 * Splitting a training batch into mini-batches (one optimiser step each) and
 * micro-batches (one `forwardBackward` each), and the per-sequence loss
 * weights that make the micro-batch losses add up to the configured
 * aggregation over the whole mini-batch, exactly.
 */
import { MasaError } from '@masa-rl/core';
import type { LossAggMode } from './config-schema.js';

/** verl adds this to each sequence's token count in `seq-mean-token-mean`. */
const SEQ_MEAN_TOKEN_COUNT_EPSILON = 1e-8;

export interface LossWeightOptions {
  /** Response tokens of each sequence of the mini-batch. */
  responseLengths: readonly number[];
  mode: LossAggMode;
  /** Divisor of `seq-mean-token-sum-norm` (verl's padded response length). */
  normLength: number;
}

/**
 * Per-token weight of each sequence such that `Σ_i w_i Σ_t ℓ_it` equals
 * verl's `agg_loss` over the whole mini-batch (n_i tokens in sequence i,
 * N = Σ n_i, S = sequences with n_i > 0):
 * `token-mean` 1/N; `seq-mean-token-mean` 1/((n_i + 1e-8)·S);
 * `seq-mean-token-sum` 1/S; `seq-mean-token-sum-norm` 1/normLength.
 * Sequences without response tokens get 0.
 */
export function computeLossWeights(options: LossWeightOptions): number[] {
  const { responseLengths, mode, normLength } = options;
  let tokens = 0;
  let sequences = 0;
  for (const length of responseLengths) {
    tokens += length;
    if (length > 0) sequences += 1;
  }
  return responseLengths.map((length) => {
    if (length === 0) return 0;
    switch (mode) {
      case 'token-mean':
        return 1 / tokens;
      case 'seq-mean-token-mean':
        return 1 / ((length + SEQ_MEAN_TOKEN_COUNT_EPSILON) * sequences);
      case 'seq-mean-token-sum':
        return 1 / sequences;
      case 'seq-mean-token-sum-norm':
        return 1 / normLength;
    }
  });
}

/** Consecutive chunks of `size` indices (the last one may be shorter). */
export function splitIntoChunks(count: number, size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new MasaError('CONFIG_INVALID', `chunk size must be an integer >= 1, got ${size}`);
  const out: number[][] = [];
  for (let start = 0; start < count; start += size) {
    out.push(Array.from({ length: Math.min(size, count - start) }, (_, i) => start + i));
  }
  return out;
}

export interface MicroBatchOptions {
  /** Total tokens (prompt + response) of each sequence, in mini-batch order. */
  sequenceTokens: readonly number[];
  /** Token budget per micro-batch (dynamic batching), or … */
  maxTokens?: number;
  /** … a fixed number of sequences per micro-batch. */
  maxSequences?: number;
  /** Names the config key in errors. @default 'actor_rollout_ref.actor.ppo_max_token_len_per_gpu' */
  budgetKey?: string;
}

/**
 * Packs sequences, in order, into micro-batches: greedily by a token budget
 * (a new micro-batch starts when the next sequence would overflow it), or by a
 * fixed sequence count. Returns index lists into `sequenceTokens`.
 *
 * @throws MasaError `CONFIG_INVALID` when one sequence alone exceeds the budget.
 */
export function splitMicroBatches(options: MicroBatchOptions): number[][] {
  const { sequenceTokens, maxTokens, maxSequences, budgetKey = 'actor_rollout_ref.actor.ppo_max_token_len_per_gpu' } = options;
  if (maxTokens === undefined) {
    if (maxSequences === undefined) throw new MasaError('ARGUMENT_INVALID', 'splitMicroBatches needs maxTokens or maxSequences');
    return splitIntoChunks(sequenceTokens.length, maxSequences);
  }
  const out: number[][] = [];
  let current: number[] = [];
  let used = 0;
  sequenceTokens.forEach((tokens, index) => {
    if (tokens > maxTokens) {
      throw new MasaError('CONFIG_INVALID', `a sequence of ${tokens} tokens does not fit ${budgetKey} = ${maxTokens}; raise it to at least ${tokens}`, {
        details: { tokens, maxTokens },
      });
    }
    if (current.length > 0 && used + tokens > maxTokens) {
      out.push(current);
      current = [];
      used = 0;
    }
    current.push(index);
    used += tokens;
  });
  if (current.length > 0) out.push(current);
  return out;
}
