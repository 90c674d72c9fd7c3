import { describe, expect, it } from 'vitest';
import { bootstrapSpeedup, firstReach, mean, pairedDifference, precisionRecall, quantile, sampleSd, speedup } from './stats.js';

describe('pairedDifference', () => {
  it('is the mean difference with a t interval of 3 seeds, as computed by hand', () => {
    // diffs 0.1, 0, 0.2: mean 0.1, sd √((0 + 0.01 + 0.01)/2) = 0.1, half-width t(0.975, 2) · 0.1 / √3 = 4.303 · 0.057735.
    const interval = pairedDifference([0.5, 0.6, 0.7], [0.4, 0.6, 0.5]);
    expect(interval.mean).toBeCloseTo(0.1, 12);
    expect(interval.high - interval.mean).toBeCloseTo((4.303 * 0.1) / Math.sqrt(3), 12);
    expect(interval.mean - interval.low).toBeCloseTo((4.303 * 0.1) / Math.sqrt(3), 12);
    expect(interval.n).toBe(3);
  });

  it('gives no interval for one pair and refuses unpaired input', () => {
    const one = pairedDifference([0.3], [0.1]);
    expect(one.mean).toBeCloseTo(0.2, 12);
    expect(Number.isNaN(one.low) && Number.isNaN(one.high)).toBe(true);
    expect(() => pairedDifference([1, 2], [1])).toThrow(/one per seed/);
  });
});

describe('firstReach', () => {
  const curve = [
    { x: 0, y: 0.4 },
    { x: 10, y: 0.5 },
    { x: 30, y: 0.6 },
  ];
  it('interpolates linearly between the measurement below and the first at or above the target', () => {
    expect(firstReach(curve, 0.55)).toBeCloseTo(20, 12); // halfway from 10 (0.5) to 30 (0.6)
    expect(firstReach(curve, 0.5)).toBe(10);
    expect(firstReach(curve, 0.45)).toBeCloseTo(5, 12);
  });
  it('is the first x when the start already reaches it, and null when nothing does', () => {
    expect(firstReach(curve, 0.3)).toBe(0);
    expect(firstReach(curve, 0.61)).toBeNull();
  });
  it('takes the first crossing of a curve that dips again', () => {
    expect(firstReach([{ x: 0, y: 0.4 }, { x: 10, y: 0.7 }, { x: 20, y: 0.5 }, { x: 30, y: 0.8 }], 0.6)).toBeCloseTo(10 * (0.2 / 0.3), 12);
  });
});

describe('speedup', () => {
  it('is the ratio of mean times; never reaching counts as infinitely slow', () => {
    expect(speedup([10, 20], [5, 10])).toBeCloseTo(2, 12);
    expect(speedup([10, 20], [5, null])).toBe(0);
    expect(speedup([10, null], [5, 10])).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(speedup([null], [null]))).toBe(true);
    expect(speedup([0], [0])).toBe(1);
  });
});

describe('bootstrapSpeedup', () => {
  it('is deterministic for a seed, brackets the estimate, and collapses when every seed agrees', () => {
    const a = bootstrapSpeedup([10, 12, 14], [8, 10, 9], { seed: 's', resamples: 2000 });
    const b = bootstrapSpeedup([10, 12, 14], [8, 10, 9], { seed: 's', resamples: 2000 });
    expect(a).toEqual(b);
    expect(a.estimate).toBeCloseTo(12 / 9, 12);
    expect(a.low).toBeLessThan(a.estimate);
    expect(a.high).toBeGreaterThan(a.estimate);
    // Paired resamples: the extremes are seed 1 alone (10/8 = 1.25) and seed 3 alone (14/9 ≈ 1.556).
    expect(a.low).toBeGreaterThanOrEqual(1.2);
    expect(a.high).toBeLessThanOrEqual(14 / 9 + 1e-12);
    const flat = bootstrapSpeedup([6, 6, 6], [3, 3, 3], { seed: 's', resamples: 100 });
    expect([flat.estimate, flat.low, flat.high]).toEqual([2, 2, 2]);
  });

  it('keeps the pairing: a method exactly twice as fast on every seed gives 2 however different the seeds are', () => {
    const paired = bootstrapSpeedup([10, 100, 1000], [5, 50, 500], { seed: 'p', resamples: 500 });
    expect([paired.low, paired.high]).toEqual([2, 2]);
  });

  it('counts resamples where neither side reached the target as undefined and drops them', () => {
    const result = bootstrapSpeedup([null, 10], [null, 5], { seed: 'x', resamples: 4000 });
    // Both sides are null exactly at seed 1, which a paired resample of 2 draws picks with probability 3/4.
    expect(result.undefinedResamples / result.resamples).toBeGreaterThan(0.75 - 0.03);
    expect(result.undefinedResamples / result.resamples).toBeLessThan(0.75 + 0.03);
    expect(Number.isNaN(result.estimate)).toBe(true);
    expect(() => bootstrapSpeedup([1, 2], [1], { seed: 'x' })).toThrow(/paired/);
  });
});

describe('small helpers', () => {
  it('mean, sample sd, quantile and precision/recall by hand', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(sampleSd([1, 2, 3, 6])).toBeCloseTo(Math.sqrt((4 + 1 + 0 + 9) / 3), 12);
    expect(sampleSd([5])).toBe(0);
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5], 0.1)).toBeCloseTo(1.4, 12);
    expect(quantile([1, Number.POSITIVE_INFINITY], 0.975)).toBe(Number.POSITIVE_INFINITY);
    expect(precisionRecall({ tp: 3, fp: 1, fn: 3 })).toEqual({ precision: 0.75, recall: 0.5, f1: 0.6 });
    expect(precisionRecall({ tp: 0, fp: 0, fn: 2 })).toEqual({ precision: null, recall: 0, f1: null });
  });
});
