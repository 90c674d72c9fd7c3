import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { gatingQuality, tokenSavings, type GatingOutcome } from './gating-quality.js';

describe('gatingQuality', () => {
  const repeat = (count: number, outcome: GatingOutcome): GatingOutcome[] => Array.from({ length: count }, () => outcome);

  it('equals hand counts when every question is solved', () => {
    const result = gatingQuality({
      questions: [
        ...repeat(9, { gated: true, zeroVariance: true }),
        ...repeat(1, { gated: true, zeroVariance: false }),
        ...repeat(3, { gated: false, zeroVariance: true }),
        ...repeat(7, { gated: false, zeroVariance: false }),
      ],
    });
    expect(result).toMatchObject({ truePositives: 9, falsePositives: 1, falseNegatives: 3, trueNegatives: 7, gatedFraction: 0.5 });
    expect(result.precision).toBeCloseTo(0.9, 15);
    expect(result.recall).toBeCloseTo(0.75, 15);
    expect(result.f1).toBeCloseTo(0.8181818181818182, 15); // 2 · 0.9 · 0.75 / 1.65
  });

  it('extrapolates from an audit sample of gated questions', () => {
    const result = gatingQuality({
      questions: [
        ...repeat(3, { gated: true, zeroVariance: true }),
        ...repeat(1, { gated: true, zeroVariance: false }),
        ...repeat(4, { gated: true, zeroVariance: null }),
        ...repeat(2, { gated: false, zeroVariance: true }),
        ...repeat(5, { gated: false, zeroVariance: false }),
        ...repeat(1, { gated: false, zeroVariance: null }),
      ],
    });
    // precision 3/4; estimated TP = 0.75 · 8 gated = 6; recall 6 / (6 + 2)
    expect(result).toMatchObject({ unauditedGated: 4, unknownUngated: 1, precision: 0.75, recall: 0.75, f1: 0.75, gatedFraction: 0.5 });
  });

  it('handles no gating at all', () => {
    expect(gatingQuality({ questions: repeat(2, { gated: false, zeroVariance: true }) })).toMatchObject({ precision: null, recall: 0, f1: null, gatedFraction: 0 });
    expect(gatingQuality({ questions: [] })).toMatchObject({ precision: null, recall: null, f1: null, gatedFraction: null });
  });
});

describe('tokenSavings', () => {
  it('counts gated rollouts and bounds the cutoff saving', () => {
    const result = tokenSavings({
      gatedQuestions: 3,
      rolloutsPerQuestion: 16,
      meanSolutionTokens: 500,
      cutoffRollouts: [
        { generatedTokens: 100, finishReason: 'cutoff', uncappedMaxNewTokens: 8192 },
        { generatedTokens: 50, finishReason: 'stop', uncappedMaxNewTokens: 8192 },
        { generatedTokens: 200, finishReason: 'cutoff', uncappedMaxNewTokens: 8192, uncappedTokens: 900 },
      ],
    });
    expect(result).toEqual({
      gatingTokensSaved: 24_000, // 3 · 16 · 500
      cutoffCount: 2,
      cutoffTokensSavedUpperBound: 16_084, // (8192 − 100) + (8192 − 200)
      cutoffTokensSavedMeasured: 700, // 900 − 200
    });
    expect(tokenSavings({ gatedQuestions: 0, rolloutsPerQuestion: 16, meanSolutionTokens: 10 }).cutoffTokensSavedMeasured).toBeNull();
  });

  it('rejects negative counts', () => {
    expect(() => tokenSavings({ gatedQuestions: -1, rolloutsPerQuestion: 16, meanSolutionTokens: 10 })).toThrow(MasaError);
  });
});
