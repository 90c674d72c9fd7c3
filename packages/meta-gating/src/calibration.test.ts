import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { passRateCalibration, pearsonCorrelation, standardizedLengthError, summarizeMetaRewards } from './calibration.js';

describe('summarizeMetaRewards', () => {
  it('gives the parse rate and the mean of each sub-score', () => {
    const summary = summarizeMetaRewards({
      records: [
        { ok: true, reward: { score: 0.6, notionScore: 0.5, passRateScore: 0.3, lengthScore: 1 } },
        { ok: false, reward: { score: 0, notionScore: 0, passRateScore: 0, lengthScore: 0 } },
      ],
    });
    expect(summary).toEqual({ count: 2, parseRate: 0.5, meanScore: 0.3, meanNotionScore: 0.25, meanPassRateScore: 0.15, meanLengthScore: 0.5 });
    expect(summarizeMetaRewards({ records: [] })).toMatchObject({ count: 0, parseRate: null, meanScore: null });
  });
});

describe('passRateCalibration', () => {
  const pairs = [
    { predictedPassCount: 4, truePassRate: 0.5 },
    { predictedPassCount: 8, truePassRate: 0.75 },
    { predictedPassCount: 0, truePassRate: 0 },
    { predictedPassCount: 2, truePassRate: 0.5 },
    { predictedPassCount: null, truePassRate: 0.25 },
    { predictedPassCount: 4.5, truePassRate: 0.25 },
    { predictedPassCount: 9, truePassRate: 0.25 },
  ];

  it('computes MAE, bias and Pearson over the usable pairs (hand-computed)', () => {
    const result = passRateCalibration({ pairs });
    // p̂ = [0.5, 1, 0, 0.25], p = [0.5, 0.75, 0, 0.5]; errors [0, 0.25, 0, −0.25]
    expect(result.count).toBe(4);
    expect(result.invalidCount).toBe(3);
    expect(result.maePassRate).toBe(0.125);
    expect(result.maePassCount).toBe(1);
    expect(result.bias).toBe(0);
    // cov 0.359375 / sqrt(0.546875 · 0.296875)
    expect(result.pearson).toBeCloseTo(0.8919017444789035, 12);
  });

  it('builds a reliability table with one bin per predicted count', () => {
    const { reliability } = passRateCalibration({ pairs });
    expect(reliability).toHaveLength(9);
    expect(reliability[0]).toEqual({ predictedPassCount: 0, count: 1, meanPredictedPassRate: 0, meanTruePassRate: 0 });
    expect(reliability[2]).toEqual({ predictedPassCount: 2, count: 1, meanPredictedPassRate: 0.25, meanTruePassRate: 0.5 });
    expect(reliability[4]).toEqual({ predictedPassCount: 4, count: 1, meanPredictedPassRate: 0.5, meanTruePassRate: 0.5 });
    expect(reliability[8]).toEqual({ predictedPassCount: 8, count: 1, meanPredictedPassRate: 1, meanTruePassRate: 0.75 });
    expect(reliability[5]).toEqual({ predictedPassCount: 5, count: 0, meanPredictedPassRate: null, meanTruePassRate: null });
    const twoInOneBin = passRateCalibration({
      pairs: [
        { predictedPassCount: 3, truePassRate: 0.25 },
        { predictedPassCount: 3, truePassRate: 0.5 },
      ],
    });
    expect(twoInOneBin.reliability[3]).toEqual({ predictedPassCount: 3, count: 2, meanPredictedPassRate: 0.375, meanTruePassRate: 0.375 });
    expect(twoInOneBin.pearson).toBeNull(); // constant predictions
  });

  it('rejects a true pass rate outside [0, 1]', () => {
    expect(() => passRateCalibration({ pairs: [{ predictedPassCount: 1, truePassRate: 2 }] })).toThrow(MasaError);
  });

  it('pearsonCorrelation is ±1 on exact lines and null when undefined', () => {
    expect(pearsonCorrelation([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 15);
    expect(pearsonCorrelation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 15);
    expect(pearsonCorrelation([1], [1])).toBeNull();
    expect(pearsonCorrelation([1, 2], [5, 5])).toBeNull();
  });
});

describe('standardizedLengthError', () => {
  it('is (mean true − mean predicted) / population std of predicted, per question and class', () => {
    const result = standardizedLengthError({
      questions: [
        // predicted mean 110, std 10: correct mean 115 → 0.5; incorrect 200 → 9
        { predictedLengths: [100, 120], correctLengths: [105, 115, 125], incorrectLengths: [200] },
        // zero spread: undefined
        { predictedLengths: [50, 50], correctLengths: [40], incorrectLengths: [60] },
        // predicted mean 100, std sqrt(800/3): incorrect mean 120 → 20 / 16.33 = 1.2247
        { predictedLengths: [80, 100, 120], correctLengths: [], incorrectLengths: [100, 140] },
        // a single prediction has no spread
        { predictedLengths: [90], correctLengths: [90], incorrectLengths: [95] },
      ],
    });
    expect(result.correct).toEqual({ values: [0.5], mean: 0.5, median: 0.5, skipped: 3 });
    expect(result.incorrect.values).toHaveLength(2);
    expect(result.incorrect.values[0]).toBe(9);
    expect(result.incorrect.values[1]).toBeCloseTo(1.224744871391589, 12);
    expect(result.incorrect.mean).toBeCloseTo(5.112372435695795, 12);
    expect(result.incorrect.median).toBeCloseTo(5.112372435695795, 12);
    expect(result.incorrect.skipped).toBe(2);
  });
});
