import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { parseMetaPrediction } from './meta-prediction.js';
import { computeCutoffBudget, decidePredictiveGate, validPassCount, validSolutionLength } from './predictive-gate.js';

const withPassRates = (...values: string[]) => values.map((value) => parseMetaPrediction(`{"math_notion": [], "pass_rate": ${value}}`));
const withLengths = (...values: string[]) => values.map((value) => parseMetaPrediction(`{"math_notion": [], "solution_length": ${value}}`));

describe('decidePredictiveGate', () => {
  it('gates all-wrong when seven say 0/8 and one says 1/8 (ε = 1/16), but not with the literal ε = 0', () => {
    const predictions = withPassRates('0', '0', '0', '0', '0', '0', '0', '1');
    const decision = decidePredictiveGate({ predictions });
    // p̂ = seven 0s and one 0.125: mean 1/64, population std sqrt(1/512 − 1/4096) = sqrt(7)/64
    expect(decision.meanPassRate).toBeCloseTo(1 / 64, 15);
    expect(decision.stdPassRate).toBeCloseTo(Math.sqrt(7) / 64, 15);
    expect(decision).toMatchObject({ gate: true, reason: 'all-wrong', validCount: 8 });
    expect(decidePredictiveGate({ predictions, tolerance: 0 })).toMatchObject({ gate: false, reason: 'uncertain' });
  });

  it('gates all-right on unanimous 8/8 (any ε) and on 63/64 with ε = 1/16', () => {
    expect(decidePredictiveGate({ predictions: withPassRates('8', '8', '8'), tolerance: 0 })).toMatchObject({
      gate: true,
      reason: 'all-right',
      meanPassRate: 1,
      stdPassRate: 0,
    });
    const decision = decidePredictiveGate({ predictions: withPassRates('8', '8', '8', '8', '8', '8', '8', '7') });
    expect(decision.meanPassRate).toBeCloseTo(63 / 64, 15);
    expect(decision).toMatchObject({ gate: true, reason: 'all-right' });
  });

  it('does not gate when the mean is extreme but the spread is too wide', () => {
    // p̂ = seven 0s and one 0.5: mean 1/16 (≤ ε), std sqrt(0.25/8 − 1/256) = 0.16536 ≥ 0.1
    const decision = decidePredictiveGate({ predictions: withPassRates('0', '0', '0', '0', '0', '0', '0', '4') });
    expect(decision.meanPassRate).toBe(0.0625);
    expect(decision.stdPassRate).toBeCloseTo(Math.sqrt(0.02734375), 15);
    expect(decision).toMatchObject({ gate: false, reason: 'uncertain' });
    // A wider threshold admits it.
    expect(decidePredictiveGate({ predictions: withPassRates('0', '0', '0', '0', '0', '0', '0', '4'), stdThreshold: 0.2 }).gate).toBe(true);
  });

  it('two predictions 0/8 and 1/8: mean 1/16, std 1/16 → gated', () => {
    expect(decidePredictiveGate({ predictions: withPassRates('0', '1') })).toMatchObject({
      gate: true,
      reason: 'all-wrong',
      meanPassRate: 0.0625,
      stdPassRate: 0.0625,
    });
  });

  it('the std test is strict', () => {
    expect(decidePredictiveGate({ predictions: withPassRates('0', '0'), stdThreshold: 0 })).toMatchObject({ gate: false, reason: 'uncertain' });
  });

  it('a middling consensus is uncertain', () => {
    expect(decidePredictiveGate({ predictions: withPassRates('4', '4', '4') })).toMatchObject({ gate: false, reason: 'uncertain', stdPassRate: 0 });
  });

  it('ignores unparseable, non-integer and out-of-range predictions; too few valid → no gate', () => {
    const predictions = [
      ...withPassRates('0', '0.0', '"0"', '9', '-1', 'true'),
      parseMetaPrediction('garbage'),
      parseMetaPrediction('{ "math_notion": [], "pass_rate": 0 }', { mode: 'parity' }),
    ];
    // Valid: 0 and true (= 1).
    expect(decidePredictiveGate({ predictions })).toMatchObject({ validCount: 2, gate: true, meanPassRate: 0.0625 });
    expect(decidePredictiveGate({ predictions, minValid: 3 })).toMatchObject({ gate: false, reason: 'too-few-valid', validCount: 2 });
    expect(decidePredictiveGate({ predictions: [parseMetaPrediction('nothing')] })).toEqual({
      gate: false,
      reason: 'too-few-valid',
      validCount: 0,
      meanPassRate: null,
      stdPassRate: null,
    });
  });

  it('rejects bad thresholds with CONFIG_INVALID', () => {
    const predictions = withPassRates('0', '0');
    for (const options of [{ tolerance: 0.5 }, { tolerance: -0.1 }, { stdThreshold: -1 }, { minValid: 0 }, { minValid: 1.5 }, { passRateScale: 0 }]) {
      let caught: unknown;
      try {
        decidePredictiveGate({ predictions, ...options });
      } catch (error: unknown) {
        caught = error;
      }
      expect(MasaError.hasCode(caught, 'CONFIG_INVALID'), JSON.stringify(options)).toBe(true);
    }
  });
});

describe('computeCutoffBudget', () => {
  it('is ceil(l_LC × mean predicted length), clipped to maxNewTokens', () => {
    const predictions = withLengths('1800', '2000', '2300');
    // mean 6100/3 = 2033.33…; × 2 = 4066.67 → 4067
    const budget = computeCutoffBudget({ predictions, maxNewTokens: 8192 });
    expect(budget.predictedLength).toBeCloseTo(6100 / 3, 12);
    expect(budget).toMatchObject({ maxNewTokens: 4067, validCount: 3, capped: true });
    expect(computeCutoffBudget({ predictions, maxNewTokens: 4000 })).toMatchObject({ maxNewTokens: 4000, capped: false });
    // l_LC = 0.5: 1016.67 → 1017
    expect(computeCutoffBudget({ predictions, maxNewTokens: 8192, lengthFactor: 0.5 }).maxNewTokens).toBe(1017);
  });

  it('without a valid predicted length, the budget is maxNewTokens', () => {
    const predictions = [...withLengths('2000.0', '"2000"', '0', '-5', `1${'0'.repeat(400)}`), parseMetaPrediction('none')];
    expect(computeCutoffBudget({ predictions, maxNewTokens: 8192 })).toEqual({
      maxNewTokens: 8192,
      predictedLength: null,
      validCount: 0,
      capped: false,
    });
  });

  it('does not round up float noise (1.1 × 100 = 110, not 111) and never goes below 1 token', () => {
    expect(computeCutoffBudget({ predictions: withLengths('100'), maxNewTokens: 500, lengthFactor: 1.1 }).maxNewTokens).toBe(110);
    expect(computeCutoffBudget({ predictions: withLengths('1'), maxNewTokens: 500, lengthFactor: 0.1 }).maxNewTokens).toBe(1);
  });

  it('rejects a bad cap or factor with CONFIG_INVALID', () => {
    for (const options of [{ maxNewTokens: 0 }, { maxNewTokens: 10.5 }, { maxNewTokens: 100, lengthFactor: 0 }, { maxNewTokens: 100, lengthFactor: Number.POSITIVE_INFINITY }]) {
      let caught: unknown;
      try {
        computeCutoffBudget({ predictions: [], ...options });
      } catch (error: unknown) {
        caught = error;
      }
      expect(MasaError.hasCode(caught, 'CONFIG_INVALID'), JSON.stringify(options)).toBe(true);
    }
  });
});

describe('validity helpers', () => {
  it('validPassCount and validSolutionLength accept integer literals only', () => {
    const [four, float, big] = withPassRates('4', '4.0', '12');
    expect(four && validPassCount(four)).toBe(4);
    expect(float && validPassCount(float)).toBeNull();
    expect(big && validPassCount(big)).toBeNull();
    expect(big && validPassCount(big, 16)).toBe(12);
    const [length, zero] = withLengths('90', '0');
    expect(length && validSolutionLength(length)).toBe(90);
    expect(zero && validSolutionLength(zero)).toBeNull();
  });
});
