import { aggregateLoss } from '@masa-rl/grpo-loss';
import { describe, expect, it } from 'vitest';
import { computeLossWeights, splitIntoChunks, splitMicroBatches } from './batching.js';
import { LOSS_AGG_MODES } from './config-schema.js';

describe('computeLossWeights', () => {
  it('gives hand-computed weights for each mode', () => {
    const responseLengths = [2, 3, 0, 5];
    // token-mean: N = 10
    expect(computeLossWeights({ responseLengths, mode: 'token-mean', normLength: 8 })).toEqual([0.1, 0.1, 0, 0.1]);
    // seq-mean-token-sum: S = 3 non-empty sequences
    expect(computeLossWeights({ responseLengths, mode: 'seq-mean-token-sum', normLength: 8 })).toEqual([1 / 3, 1 / 3, 0, 1 / 3]);
    expect(computeLossWeights({ responseLengths, mode: 'seq-mean-token-sum-norm', normLength: 8 })).toEqual([0.125, 0.125, 0, 0.125]);
    const seqMean = computeLossWeights({ responseLengths, mode: 'seq-mean-token-mean', normLength: 8 });
    expect(seqMean[0]).toBeCloseTo(1 / ((2 + 1e-8) * 3), 12);
    expect(seqMean[1]).toBeCloseTo(1 / ((3 + 1e-8) * 3), 12);
    expect(seqMean[3]).toBeCloseTo(1 / ((5 + 1e-8) * 3), 12);
  });

  it('splits any mini-batch into micro-batches whose weighted sums equal grpo-loss aggregateLoss over the whole mini-batch', () => {
    const responseLengths = [3, 1, 4, 1, 5, 2];
    const seqLen = 6;
    // Token losses ℓ_it = (i + 1) · 0.1 + t · 0.01 on the valid tokens, a [6, 6] padded matrix for grpo-loss.
    const values = new Float64Array(responseLengths.length * seqLen);
    const mask = new Float64Array(responseLengths.length * seqLen);
    responseLengths.forEach((length, i) => {
      for (let t = 0; t < length; t++) {
        values[i * seqLen + t] = (i + 1) * 0.1 + t * 0.01;
        mask[i * seqLen + t] = 1;
      }
    });
    for (const mode of LOSS_AGG_MODES) {
      const expected = aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: mode, lossScaleFactor: seqLen });
      const weights = computeLossWeights({ responseLengths, mode, normLength: seqLen });
      for (const micro of [[[0, 1, 2, 3, 4, 5]], [[0, 1], [2, 3, 4], [5]], [[0], [1], [2], [3], [4], [5]]]) {
        let total = 0;
        for (const indices of micro) {
          for (const i of indices) {
            for (let t = 0; t < (responseLengths[i] as number); t++) total += (weights[i] as number) * (values[i * seqLen + t] as number);
          }
        }
        expect(total, mode).toBeCloseTo(expected, 12);
      }
    }
  });
});

describe('splitMicroBatches', () => {
  it('packs greedily in order under a token budget', () => {
    expect(splitMicroBatches({ sequenceTokens: [4, 4, 3, 9, 1, 1], maxTokens: 10 })).toEqual([[0, 1], [2], [3, 4], [5]]);
    expect(splitMicroBatches({ sequenceTokens: [10, 10], maxTokens: 10 })).toEqual([[0], [1]]);
    expect(splitMicroBatches({ sequenceTokens: [], maxTokens: 10 })).toEqual([]);
  });

  it('chunks by sequence count', () => {
    expect(splitMicroBatches({ sequenceTokens: [1, 2, 3, 4, 5], maxSequences: 2 })).toEqual([[0, 1], [2, 3], [4]]);
    expect(splitIntoChunks(5, 5)).toEqual([[0, 1, 2, 3, 4]]);
  });

  it('names the config key when one sequence exceeds the budget', () => {
    expect(() => splitMicroBatches({ sequenceTokens: [3, 12], maxTokens: 10 })).toThrow(
      'a sequence of 12 tokens does not fit actor_rollout_ref.actor.ppo_max_token_len_per_gpu = 10; raise it to at least 12',
    );
    expect(() => splitMicroBatches({ sequenceTokens: [1] })).toThrow(/maxTokens or maxSequences/);
  });
});
