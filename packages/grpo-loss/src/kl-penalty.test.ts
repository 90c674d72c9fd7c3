import { MasaError, createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { computeKlPenalty, klPenaltyGradient, klPenaltyValue, parseKlPenalty } from './kl-penalty.js';
import { KL_PENALTY_BASES, type KlPenalty } from './types.js';

function errorOf(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

const value = (logp: number, ref: number, name: KlPenalty): number =>
  klPenaltyValue(logp, ref, parseKlPenalty(name).base);
const gradient = (logp: number, ref: number, name: KlPenalty): number =>
  klPenaltyGradient(logp, ref, parseKlPenalty(name));

describe('KL estimators (verl kl_penalty)', () => {
  it('k1 / kl: logp − ref, gradient 1', () => {
    for (const name of ['kl', 'k1'] as const) {
      expect(value(-1, -1.5, name)).toBeCloseTo(0.5, 14);
      expect(value(-2, -1, name)).toBeCloseTo(-1, 14);
      expect(gradient(-2, -1, name)).toBe(1);
    }
  });

  it('abs: |logp − ref|, gradient sign(logp − ref)', () => {
    expect(value(-1, -1.5, 'abs')).toBeCloseTo(0.5, 14);
    expect(value(-2, -1, 'abs')).toBeCloseTo(1, 14);
    expect(gradient(-1, -1.5, 'abs')).toBe(1);
    expect(gradient(-2, -1, 'abs')).toBe(-1);
    expect(gradient(-1, -1, 'abs')).toBe(0);
  });

  it('k2 / mse: (logp − ref)² / 2, gradient logp − ref', () => {
    for (const name of ['mse', 'k2'] as const) {
      expect(value(-1, -1.5, name)).toBeCloseTo(0.5 * 0.5 * 0.5, 14);
      expect(value(-2, -1, name)).toBeCloseTo(0.5 * 1 * 1, 14);
      expect(gradient(-2, -1, name)).toBeCloseTo(-1, 14);
    }
  });

  it('k3 / low_var_kl: e^x − x − 1 with x = ref − logp, gradient 1 − e^x', () => {
    for (const name of ['low_var_kl', 'k3'] as const) {
      // x = −1.5 − (−1) = −0.5
      expect(value(-1, -1.5, name)).toBeCloseTo(Math.exp(-0.5) + 0.5 - 1, 14);
      expect(gradient(-1, -1.5, name)).toBeCloseTo(1 - Math.exp(-0.5), 14);
      // x = −1 − (−2) = 1
      expect(value(-2, -1, name)).toBeCloseTo(Math.exp(1) - 1 - 1, 14);
      expect(gradient(-2, -1, name)).toBeCloseTo(1 - Math.exp(1), 14);
      expect(value(-1, -1, name)).toBe(0);
    }
  });

  it('k3 clamps the estimate at 10 (no gradient) and x at ±20', () => {
    // x = 3: e^3 − 4 ≈ 16.09 > 10
    expect(value(0, 3, 'k3')).toBe(10);
    expect(gradient(0, 3, 'k3')).toBe(0);
    // x = 25 is clamped to 20, then the estimate to 10
    expect(value(0, 25, 'k3')).toBe(10);
    expect(gradient(0, 25, 'k3')).toBe(0);
    // x = −10.5: e^−10.5 + 10.5 − 1 ≈ 9.50003 < 10, still differentiable
    expect(value(10.5, 0, 'k3')).toBeCloseTo(Math.exp(-10.5) + 10.5 - 1, 14);
    expect(gradient(10.5, 0, 'k3')).toBeCloseTo(1 - Math.exp(-10.5), 14);
    // x = −15: e^−15 + 14 > 10
    expect(value(15, 0, 'k3')).toBe(10);
    expect(gradient(15, 0, 'k3')).toBe(0);
  });

  it('a trailing + keeps the value and takes the k2 gradient (straight-through)', () => {
    expect(value(-2, -1, 'k3+')).toBeCloseTo(Math.exp(1) - 2, 14);
    expect(gradient(-2, -1, 'k3+')).toBeCloseTo(-2 - -1, 14);
    expect(value(-1, -1.5, 'k1+')).toBeCloseTo(0.5, 14);
    expect(gradient(-1, -1.5, 'k1+')).toBeCloseTo(0.5, 14);
    expect(gradient(0, 3, 'low_var_kl+')).toBeCloseTo(-3, 14);
  });

  it('every gradient matches a central finite difference at smooth points', () => {
    const rng = createRng(5);
    const h = 1e-6;
    for (const base of KL_PENALTY_BASES) {
      for (let i = 0; i < 100; i++) {
        const logp = -Math.abs(rng.normal()) * 2;
        const ref = -Math.abs(rng.normal()) * 2;
        if (Math.abs(logp - ref) < 1e-3) continue; // abs has a kink at 0
        const x = ref - logp;
        if (Math.abs(Math.exp(x) - x - 1 - 10) < 1e-3) continue; // k3's value clamp
        const numeric = (value(logp + h, ref, base) - value(logp - h, ref, base)) / (2 * h);
        expect(gradient(logp, ref, base)).toBeCloseTo(numeric, 7);
      }
    }
  });

  it('are non-negative where they estimate KL (k2, k3, abs)', () => {
    const rng = createRng(8);
    for (let i = 0; i < 200; i++) {
      const logp = rng.normal() * 3;
      const ref = rng.normal() * 3;
      for (const name of ['abs', 'k2', 'k3'] as const) expect(value(logp, ref, name)).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('computeKlPenalty', () => {
  it('fills response tokens and leaves padding at 0', () => {
    const { values, gradients } = computeKlPenalty({
      logp: [-1, -2, Number.NaN],
      refLogp: [-1.5, -1, 0],
      responseMask: [1, 1, 0],
      seqLen: 3,
      klPenalty: 'k2',
    });
    expect(Array.from(values)).toEqual([0.5 * 0.5 * 0.5, 0.5 * 1 * 1, 0]);
    expect(Array.from(gradients)).toEqual([0.5, -1, 0]);
  });

  it('defaults to low_var_kl', () => {
    const { values } = computeKlPenalty({ logp: [-2], refLogp: [-1], responseMask: [1], seqLen: 1 });
    expect(values[0]).toBeCloseTo(Math.exp(1) - 2, 14);
  });

  it('rejects unknown estimator names, including verl "full"', () => {
    for (const name of ['full', 'k4', '+']) {
      const error = errorOf(() => parseKlPenalty(name));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain('low_var_kl');
    }
  });
});
