import { MasaError, createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { aggregateLoss, computeAggregationWeights, computeMicroBatchWeights } from './aggregation.js';
import { gatherRows } from './token-matrix.js';
import { LOSS_AGG_MODES } from './types.js';

function errorOf(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

// [batch 3, seqLen 4]: row 0 has 3 response tokens, row 1 has 1, row 2 is fully masked.
// Padding holds NaN to prove it is never read.
const seqLen = 4;
const mask = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
const values = [1, 2, 3, Number.NaN, 4, Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN];

describe('aggregateLoss (verl agg_loss semantics)', () => {
  it('token-mean averages over all response tokens', () => {
    expect(aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: 'token-mean' })).toBeCloseTo(
      (1 + 2 + 3 + 4) / 4,
      14,
    );
  });

  it('seq-mean-token-mean averages per sequence (n + 1e-8), then over non-empty sequences', () => {
    const expected = ((1 + 2 + 3) / (3 + 1e-8) + 4 / (1 + 1e-8)) / 2;
    expect(aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: 'seq-mean-token-mean' })).toBeCloseTo(
      expected,
      14,
    );
    // the 1e-8 matters at the 9th digit only
    expect(expected).toBeCloseTo(3, 7);
  });

  it('seq-mean-token-sum sums per sequence, then averages over non-empty sequences', () => {
    expect(aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: 'seq-mean-token-sum' })).toBeCloseTo(
      (1 + 2 + 3 + 4) / 2,
      14,
    );
  });

  it('seq-mean-token-sum-norm divides the total by seqLen, or by lossScaleFactor', () => {
    expect(
      aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: 'seq-mean-token-sum-norm' }),
    ).toBeCloseTo((1 + 2 + 3 + 4) / 4, 14);
    expect(
      aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: 'seq-mean-token-sum-norm', lossScaleFactor: 8 }),
    ).toBeCloseTo((1 + 2 + 3 + 4) / 8, 14);
  });

  it('token-mean defaults when no mode is given', () => {
    expect(aggregateLoss({ values, responseMask: mask, seqLen })).toBeCloseTo(10 / 4, 14);
  });

  it('uses the global normalisers when given (verl global_batch_info)', () => {
    expect(aggregateLoss({ values, responseMask: mask, seqLen, batchNumTokens: 20 })).toBeCloseTo(10 / 20, 14);
    expect(
      aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: 'seq-mean-token-sum', globalBatchSize: 5 }),
    ).toBeCloseTo(10 / 5, 14);
    expect(
      aggregateLoss({ values, responseMask: mask, seqLen, lossAggMode: 'seq-mean-token-mean', globalBatchSize: 4 }),
    ).toBeCloseTo((6 / (3 + 1e-8) + 4 / (1 + 1e-8)) / 4, 14);
  });

  it('returns 0 for a matrix without response tokens', () => {
    for (const mode of LOSS_AGG_MODES) {
      expect(aggregateLoss({ values: [5, 6], responseMask: [0, 0], seqLen: 2, lossAggMode: mode })).toBe(0);
    }
  });

  it('weights equal dLoss/dL: the loss is linear in the token values', () => {
    const rng = createRng(3);
    const randomMask = Array.from({ length: 5 * 7 }, () => (rng.next() < 0.6 ? 1 : 0));
    const a = Array.from({ length: 35 }, () => rng.normal());
    const b = Array.from({ length: 35 }, () => rng.normal());
    for (const lossAggMode of LOSS_AGG_MODES) {
      const options = { responseMask: randomMask, seqLen: 7, lossAggMode };
      const weights = computeAggregationWeights(options);
      const direct = aggregateLoss({ ...options, values: a });
      const viaWeights = a.reduce((sum, value, index) => sum + value * (weights[index] as number), 0);
      expect(viaWeights).toBeCloseTo(direct, 12);
      const combined = aggregateLoss({ ...options, values: a.map((value, i) => 2 * value - 3 * (b[i] as number)) });
      expect(combined).toBeCloseTo(2 * direct - 3 * aggregateLoss({ ...options, values: b }), 12);
      randomMask.forEach((m, index) => {
        if (m === 0) expect(weights[index]).toBe(0);
      });
    }
  });

  it('rejects an unknown mode, a non-binary mask, a wrong shape and NaN on a response token', () => {
    const badMode = { values, responseMask: mask, seqLen, lossAggMode: 'sample-mean' } as unknown as Parameters<
      typeof aggregateLoss
    >[0];
    const modeError = errorOf(() => aggregateLoss(badMode));
    expect(modeError.code).toBe('CONFIG_INVALID');
    expect(modeError.message).toContain('seq-mean-token-sum-norm');
    expect(errorOf(() => aggregateLoss({ values: [1, 2], responseMask: [1, 0.5], seqLen: 2 })).code).toBe(
      'ARGUMENT_INVALID',
    );
    expect(errorOf(() => aggregateLoss({ values: [1, 2, 3], responseMask: [1, 1, 1], seqLen: 2 })).code).toBe(
      'ARGUMENT_INVALID',
    );
    expect(errorOf(() => aggregateLoss({ values: [1], responseMask: [1, 1], seqLen: 2 })).code).toBe('ARGUMENT_INVALID');
    const nanError = errorOf(() =>
      aggregateLoss({ values: [1, Number.NaN], responseMask: [1, 1], seqLen: 2, context: { step: 4, microBatch: 2 } }),
    );
    expect(nanError.code).toBe('NUMERIC_INSTABILITY');
    expect(nanError.message).toContain('step 4, microBatch 2');
    expect(errorOf(() => aggregateLoss({ values, responseMask: mask, seqLen, lossScaleFactor: 0 })).code).toBe(
      'CONFIG_INVALID',
    );
  });
});

describe('computeMicroBatchWeights', () => {
  it('gives hand-computed weights per mode', () => {
    // rows: 0 → 3 tokens, 1 → 1 token, 2 → none; micro-batches {0} and {2, 1}
    const microBatches = [[0], [2, 1]];
    const weights = (lossAggMode: (typeof LOSS_AGG_MODES)[number]): number[] =>
      Array.from(computeMicroBatchWeights({ responseMask: mask, seqLen, microBatches, lossAggMode }));
    expect(weights('token-mean')).toEqual([3 / 4, 1 / 4]);
    expect(weights('seq-mean-token-mean')).toEqual([1 / 2, 1 / 2]);
    expect(weights('seq-mean-token-sum')).toEqual([1 / 2, 1 / 2]);
    expect(weights('seq-mean-token-sum-norm')).toEqual([1, 1]);
    // a micro-batch with no response token weighs 0
    expect(
      Array.from(computeMicroBatchWeights({ responseMask: mask, seqLen, microBatches: [[2], [0, 1]] })),
    ).toEqual([0, 1]);
  });

  it('makes the weighted micro-batch losses sum to the mini-batch loss exactly (every mode)', () => {
    const rng = createRng(99);
    const batch = 9;
    const width = 6;
    const randomMask = Array.from({ length: batch * width }, () => 0);
    for (let row = 0; row < batch; row++) {
      const length = row === 4 ? 0 : rng.int(1, width); // row 4 is empty
      for (let col = 0; col < length; col++) randomMask[row * width + col] = 1;
    }
    const tokenValues = Array.from({ length: batch * width }, () => rng.normal());
    const order = rng.shuffle(Array.from({ length: batch }, (_, i) => i));
    const microBatches = [order.slice(0, 2), order.slice(2, 3), order.slice(3, 7), order.slice(7)];
    for (const lossAggMode of LOSS_AGG_MODES) {
      const whole = aggregateLoss({ values: tokenValues, responseMask: randomMask, seqLen: width, lossAggMode });
      const weights = computeMicroBatchWeights({ responseMask: randomMask, seqLen: width, microBatches, lossAggMode });
      let accumulated = 0;
      microBatches.forEach((rows, k) => {
        const microLoss = aggregateLoss({
          values: gatherRows({ matrix: tokenValues, seqLen: width, rows }),
          responseMask: gatherRows({ matrix: randomMask, seqLen: width, rows }),
          seqLen: width,
          lossAggMode,
        });
        accumulated += (weights[k] as number) * microLoss;
      });
      expect(accumulated).toBeCloseTo(whole, 12);
    }
  });

  it('rejects a split that misses or repeats a row', () => {
    expect(errorOf(() => computeMicroBatchWeights({ responseMask: mask, seqLen, microBatches: [[0, 1]] })).message).toContain(
      'row 2',
    );
    expect(
      errorOf(() => computeMicroBatchWeights({ responseMask: mask, seqLen, microBatches: [[0, 1], [1, 2]] })).code,
    ).toBe('ARGUMENT_INVALID');
    expect(
      errorOf(() => computeMicroBatchWeights({ responseMask: mask, seqLen, microBatches: [[0, 1, 2, 3]] })).code,
    ).toBe('ARGUMENT_INVALID');
  });
});
