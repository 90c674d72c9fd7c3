import { MasaError, createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { computePolicyLoss, policyLossToken, type ClipSettings } from './policy-loss.js';

// MASA's scripts: ε_low 0.2, ε_high 0.28, dual clip c = 10
const clip: ClipSettings = { clipRatioLow: 0.2, clipRatioHigh: 0.28, clipRatioC: 10 };

function errorOf(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

/** One token with log-ratio `delta` (logp = delta, oldLogp = 0). */
function token(delta: number, advantage: number, settings: ClipSettings = clip) {
  return { ...policyLossToken(delta, 0, advantage, settings) };
}

describe('policyLossToken: hand-computed cases', () => {
  it('inside the trust region: L = −A·ρ, dL/dlogp = −A·ρ', () => {
    const result = token(Math.log(1.1), 0.5);
    expect(result.ratio).toBeCloseTo(1.1, 14);
    expect(result.loss).toBeCloseTo(-0.5 * 1.1, 14);
    expect(result.dLossDLogp).toBeCloseTo(-0.5 * 1.1, 14);
    expect(result.clipped).toBe(false);
    expect(result.dualClipped).toBe(false);
  });

  it('A > 0 and ρ > 1 + ε_high: clipped at 1.28, no gradient', () => {
    // L1 = −2·1.5 = −3, L2 = −2·1.28 = −2.56, max = −2.56
    const result = token(Math.log(1.5), 2);
    expect(result.loss).toBeCloseTo(-2 * (1 + 0.28), 14);
    expect(result.dLossDLogp).toBe(0);
    expect(result.clipped).toBe(true);
  });

  it('A > 0 and ρ < 1 − ε_low: not clipped (pessimistic max picks L1)', () => {
    // L1 = −2·0.5 = −1, L2 = −2·0.8 = −1.6, max = −1
    const result = token(Math.log(0.5), 2);
    expect(result.loss).toBeCloseTo(-2 * 0.5, 14);
    expect(result.dLossDLogp).toBeCloseTo(-2 * 0.5, 14);
    expect(result.clipped).toBe(false);
  });

  it('A < 0 and ρ < 1 − ε_low: clipped at 0.8, no gradient', () => {
    // L1 = 2·0.5 = 1, L2 = 2·0.8 = 1.6, max = 1.6; dual bound 2·10 = 20 not reached
    const result = token(Math.log(0.5), -2);
    expect(result.loss).toBeCloseTo(2 * (1 - 0.2), 14);
    expect(result.dLossDLogp).toBe(0);
    expect(result.clipped).toBe(true);
    expect(result.dualClipped).toBe(false);
  });

  it('A < 0 and 1 + ε_high < ρ < c: not clipped', () => {
    // L1 = 2·1.5 = 3, L2 = 2·1.28 = 2.56, max = 3 < 20
    const result = token(Math.log(1.5), -2);
    expect(result.loss).toBeCloseTo(2 * 1.5, 14);
    expect(result.dLossDLogp).toBeCloseTo(2 * 1.5, 14);
    expect(result.clipped).toBe(false);
    expect(result.dualClipped).toBe(false);
  });

  it('dual clip: A < 0 and a huge ratio caps the loss at −A·c', () => {
    // ρ = 50: L1 = 2·50 = 100, L2 = 2.56, Lc = 100 > L3 = 2·10 = 20
    const result = token(Math.log(50), -2);
    expect(result.loss).toBeCloseTo(2 * 10, 14);
    expect(result.dLossDLogp).toBe(0);
    expect(result.dualClipped).toBe(true);
    expect(result.clipped).toBe(false);
  });

  it('clamps the log-ratio to ±20 (and the clamp stops the gradient)', () => {
    // δ = 30 → ρ = e^20; with A = −1: min(e^20, 10) = 10
    const dual = token(30, -1);
    expect(dual.ratio).toBeCloseTo(Math.exp(20), 2);
    expect(dual.loss).toBe(10);
    expect(dual.logRatio).toBe(20);
    // δ = −30 → ρ = e^−20, A = 1: L1 = −e^−20 > L2 = −0.8, so L = L1, but d/dlogp is 0 past the clamp
    const low = token(-30, 1);
    expect(low.loss).toBeCloseTo(-Math.exp(-20), 20);
    expect(low.dLossDLogp).toBe(0);
    // δ = −19 is inside the clamp: gradient −A·ρ
    expect(token(-19, 1).dLossDLogp).toBeCloseTo(-Math.exp(-19), 20);
  });

  it('A = 0 gives zero loss and gradient', () => {
    const result = token(Math.log(3), 0);
    expect(result.loss === 0).toBe(true);
    expect(result.dLossDLogp === 0).toBe(true);
  });

  it('splits the gradient half and half on an exact tie with the dual-clip bound (PyTorch min)', () => {
    // c = e^0.5 exactly and δ = 0.5: Lc = −A·ρ = L3
    const tie = token(0.5, -1, { clipRatioLow: 0.2, clipRatioHigh: 0.28, clipRatioC: Math.exp(0.5) });
    expect(tie.loss).toBe(Math.exp(0.5));
    expect(tie.dLossDLogp).toBeCloseTo(0.5 * Math.exp(0.5), 14);
    expect(tie.dualClipped).toBe(false);
  });

  it('obeys the clip bounds (invariant, seeded random tokens)', () => {
    const rng = createRng(42);
    for (let i = 0; i < 2000; i++) {
      const delta = rng.normal() * 2;
      const advantage = rng.normal();
      const result = token(delta, advantage);
      if (advantage > 0) {
        // the objective −L never credits a ratio above 1 + ε_high
        expect(result.loss).toBeGreaterThanOrEqual(-advantage * (1 + clip.clipRatioHigh) - 1e-12);
      } else if (advantage < 0) {
        // the pessimistic loss never uses a ratio below 1 − ε_low, never exceeds the dual bound
        expect(result.loss).toBeGreaterThanOrEqual(-advantage * (1 - clip.clipRatioLow) - 1e-12);
        expect(result.loss).toBeLessThanOrEqual(-advantage * clip.clipRatioC + 1e-12);
      }
      // the loss is always one of −A·ρ, −A·clip(ρ), −A·c
      const clipped = Math.min(Math.max(result.ratio, 1 - clip.clipRatioLow), 1 + clip.clipRatioHigh);
      const candidates = [-advantage * result.ratio, -advantage * clipped, -advantage * clip.clipRatioC];
      expect(candidates.some((candidate) => Math.abs(candidate - result.loss) < 1e-12)).toBe(true);
    }
  });

  it('matches a central finite difference away from the kinks', () => {
    const rng = createRng(7);
    const h = 1e-6;
    let checked = 0;
    for (let i = 0; i < 500; i++) {
      const delta = rng.normal() * 1.5;
      const advantage = rng.normal();
      const ratio = Math.exp(delta);
      const kinks = [1 - clip.clipRatioLow, 1 + clip.clipRatioHigh, clip.clipRatioC];
      if (kinks.some((kink) => Math.abs(ratio - kink) < 1e-4)) continue;
      const plus = policyLossToken(delta + h, 0, advantage, clip).loss;
      const minus = policyLossToken(delta - h, 0, advantage, clip).loss;
      expect(token(delta, advantage).dLossDLogp).toBeCloseTo((plus - minus) / (2 * h), 7);
      checked++;
    }
    expect(checked).toBeGreaterThan(450);
  });
});

describe('computePolicyLoss: matrix form and verl metrics', () => {
  // [batch 2, seqLen 4]; row 0: four response tokens, row 1: two (+ padding with garbage)
  const seqLen = 4;
  const responseMask = [1, 1, 1, 1, 1, 1, 0, 0];
  const logRatios = [Math.log(1.5), Math.log(0.5), Math.log(50), Math.log(1.1), Math.log(0.5), 0, 7, Number.NaN];
  const advantages = [2, -2, -2, 0.5, 2, 1, 1, 1];
  const oldLogp = [-1, -2, -3, -1, -2, -1, Number.NEGATIVE_INFINITY, 0];
  const logp = oldLogp.map((old, i) => old + (logRatios[i] as number));

  it('gives each token its hand-computed loss and the masked metrics', () => {
    const { losses, gradients, metrics } = computePolicyLoss({ logp, oldLogp, advantages, responseMask, seqLen });
    const expectedLosses = [-2 * 1.28, 2 * 0.8, 2 * 10, -0.5 * 1.1, -2 * 0.5, -1 * 1, 0, 0];
    const expectedGradients = [0, 0, 0, -0.5 * 1.1, -2 * 0.5, -1 * 1, 0, 0];
    expectedLosses.forEach((value, i) => expect(losses[i]).toBeCloseTo(value, 12));
    expectedGradients.forEach((value, i) => expect(gradients[i]).toBeCloseTo(value, 12));
    // clipped by ε: token 0 (A > 0, high side) and token 1 (A < 0, low side); dual clip: token 2
    expect(metrics.validTokens).toBe(6);
    expect(metrics.pgClipfrac).toBeCloseTo(2 / 6, 14);
    expect(metrics.pgClipfracRatioHigh).toBeCloseTo(1 / 6, 14);
    expect(metrics.pgClipfracRatioLow).toBeCloseTo(1 / 6, 14);
    expect(metrics.pgClipfracLower).toBeCloseTo(1 / 6, 14);
    const ppoKl = -(Math.log(1.5) + Math.log(0.5) + Math.log(50) + Math.log(1.1) + Math.log(0.5) + 0) / 6;
    expect(metrics.ppoKl).toBeCloseTo(ppoKl, 12);
    expect(metrics.ratioMean).toBeCloseTo((1.5 + 0.5 + 50 + 1.1 + 0.5 + 1) / 6, 12);
    expect(metrics.ratioMax).toBeCloseTo(50, 12);
    expect(metrics.ratioMin).toBeCloseTo(0.5, 12);
  });

  it('reports zero metrics for a fully masked batch', () => {
    const { metrics, losses } = computePolicyLoss({
      logp: [0, 0],
      oldLogp: [0, 0],
      advantages: [1, 1],
      responseMask: [0, 0],
      seqLen: 2,
    });
    expect(metrics).toMatchObject({ validTokens: 0, pgClipfrac: 0, ppoKl: 0, ratioMax: 0 });
    expect(Array.from(losses)).toEqual([0, 0]);
  });

  it('rejects NaN on a response token with row, token and step ids, and bad clip settings', () => {
    const error = errorOf(() =>
      computePolicyLoss({
        logp: [0, Number.NaN],
        oldLogp: [0, 0],
        advantages: [1, 1],
        responseMask: [1, 1],
        seqLen: 2,
        context: { step: 3 },
      }),
    );
    expect(error.code).toBe('NUMERIC_INSTABILITY');
    expect(error.message).toContain('logp[1] (row 0, token 1)');
    expect(error.message).toContain('step 3');
    const base = { logp: [0], oldLogp: [0], advantages: [1], responseMask: [1], seqLen: 1 };
    expect(errorOf(() => computePolicyLoss({ ...base, clipRatioC: 1 })).message).toContain('clip_ratio_c');
    expect(errorOf(() => computePolicyLoss({ ...base, clipRatioLow: -0.1 })).code).toBe('CONFIG_INVALID');
    expect(errorOf(() => computePolicyLoss({ ...base, advantages: [1, 2] })).message).toContain('broadcastToTokens');
  });
});
