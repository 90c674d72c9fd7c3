import { MasaError, createRng, type Rng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { computeMicroBatchWeights } from './aggregation.js';
import { computeGrpoLoss, type GrpoLossOptions } from './grpo-loss.js';
import type { PolicyLossConfig } from './loss-config.js';
import { resolvePolicyLossConfig } from './loss-config.js';
import { gatherRows } from './token-matrix.js';
import { KL_PENALTY_BASES, LOSS_AGG_MODES } from './types.js';

/** Element i of an array (throws on a hole, so a typo cannot pass as NaN). */
function at(values: ArrayLike<number>, index: number): number {
  const value = values[index];
  if (value === undefined) throw new Error(`no element ${index}`);
  return value;
}

function errorOf(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

describe('computeGrpoLoss: hand-computed totals', () => {
  // [batch 2, seqLen 3]; row 0: 3 tokens, row 1: 1 token
  const seqLen = 3;
  const responseMask = [1, 1, 1, 1, 0, 0];
  const oldLogp = [-1, -1, -1, -2, 0, 0];
  // log-ratios: ln 1.5 (A = 2: clipped high), 0 (A = 2), ln 0.5 (A = 2: not clipped), 0 (A = −1)
  const logp = [-1 + Math.log(1.5), -1, -1 + Math.log(0.5), -2, 0, 0];
  const advantages = [2, 2, 2, -1, 0, 0];
  // policy-gradient token losses
  const pg = [-2 * 1.28, -2 * 1, -2 * 0.5, 1 * 1];
  const pgGrad = [0, -2 * 1, -2 * 0.5, 1 * 1];

  it('token-mean without KL or entropy (MASA default)', () => {
    const result = computeGrpoLoss({ logp, oldLogp, advantages, responseMask, seqLen });
    const expected = (at(pg, 0) + at(pg, 1) + at(pg, 2) + at(pg, 3)) / 4;
    expect(result.loss).toBeCloseTo(expected, 12);
    expect(result.pgLoss).toBeCloseTo(expected, 12);
    expect(result.klLoss).toBe(0);
    const expectedGrad = [at(pgGrad, 0) / 4, at(pgGrad, 1) / 4, at(pgGrad, 2) / 4, at(pgGrad, 3) / 4, 0, 0];
    expectedGrad.forEach((g, i) => expect(result.dLossDLogp[i]).toBeCloseTo(g, 12));
    expect(result.dLossDEntropy).toBeUndefined();
    expect(result.metrics.klLoss).toBeUndefined();
    expect(result.metrics.entropy).toBeUndefined();
    expect(result.config.clipRatioHigh).toBe(0.28);
  });

  it('seq-mean-token-mean with a k1 KL term and an entropy bonus', () => {
    const refLogp = [-1.5, -0.5, -1, -2.25, 0, 0];
    const entropy = [0.3, 0.6, 0.9, 1.2, 99, 99];
    const config: PolicyLossConfig = {
      lossAggMode: 'seq-mean-token-mean',
      useKlLoss: true,
      klLossCoef: 0.1,
      klLossType: 'k1',
      entropyCoeff: 0.01,
    };
    const result = computeGrpoLoss({ logp, oldLogp, advantages, responseMask, seqLen, refLogp, entropy, config });
    const kl = logp.slice(0, 4).map((value, i) => value - at(refLogp, i));
    const row0 = 1 / ((3 + 1e-8) * 2);
    const row1 = 1 / ((1 + 1e-8) * 2);
    const pgLoss = row0 * (at(pg, 0) + at(pg, 1) + at(pg, 2)) + row1 * at(pg, 3);
    const klLoss = row0 * (at(kl, 0) + at(kl, 1) + at(kl, 2)) + row1 * at(kl, 3);
    const entropyLoss = row0 * (0.3 + 0.6 + 0.9) + row1 * 1.2;
    expect(result.pgLoss).toBeCloseTo(pgLoss, 12);
    expect(result.klLoss).toBeCloseTo(klLoss, 12);
    expect(result.entropyLoss).toBeCloseTo(entropyLoss, 12);
    expect(result.loss).toBeCloseTo(pgLoss - 0.01 * entropyLoss + 0.1 * klLoss, 12);
    // dLoss/dlogp = W · (dpg + β · 1) for k1
    const weights = [row0, row0, row0, row1];
    weights.forEach((w, i) => expect(result.dLossDLogp[i]).toBeCloseTo(w * (at(pgGrad, i) + 0.1 * 1), 12));
    weights.forEach((w, i) => expect(result.dLossDEntropy?.[i]).toBeCloseTo(-0.01 * w, 14));
    expect(result.metrics).toMatchObject({ klCoef: 0.1 });
    expect(result.metrics.klLoss).toBeCloseTo(klLoss, 12);
    expect(result.metrics.entropy).toBeCloseTo(entropyLoss, 12);
    // the per-token total losses aggregate to the loss
    const viaTokens = result.tokenLosses.reduce((sum, value, i) => sum + value * at(result.tokenWeights, i), 0);
    expect(viaTokens).toBeCloseTo(result.loss, 12);
  });

  it('seq-mean-token-sum-norm divides by seqLen (Dr.GRPO) and by lossScaleFactor when set', () => {
    const total = at(pg, 0) + at(pg, 1) + at(pg, 2) + at(pg, 3);
    const byLength = computeGrpoLoss({
      logp, oldLogp, advantages, responseMask, seqLen,
      config: { lossAggMode: 'seq-mean-token-sum-norm' },
    });
    expect(byLength.loss).toBeCloseTo(total / 3, 12);
    const byFactor = computeGrpoLoss({
      logp, oldLogp, advantages, responseMask, seqLen,
      config: { lossAggMode: 'seq-mean-token-sum-norm', lossScaleFactor: 4096 },
    });
    expect(byFactor.loss).toBeCloseTo(total / 4096, 14);
    const seqSum = computeGrpoLoss({
      logp, oldLogp, advantages, responseMask, seqLen,
      config: { lossAggMode: 'seq-mean-token-sum' },
    });
    expect(seqSum.loss).toBeCloseTo(total / 2, 12);
  });

  it('reports entropy as a metric without adding it when entropyCoeff is 0', () => {
    const result = computeGrpoLoss({
      logp, oldLogp, advantages, responseMask, seqLen,
      entropy: [1, 2, 3, 4, 0, 0],
    });
    expect(result.metrics.entropy).toBeCloseTo((1 + 2 + 3 + 4) / 4, 12);
    expect(result.loss).toBeCloseTo(result.pgLoss, 14);
    expect(result.dLossDEntropy).toBeUndefined();
  });
});

/** A random batch with every clip regime present, for the finite-difference checks. */
function randomBatch(rng: Rng, batch: number, seqLen: number) {
  const size = batch * seqLen;
  const responseMask = new Float64Array(size);
  for (let row = 0; row < batch; row++) {
    const length = row === 1 ? 0 : rng.int(1, seqLen);
    for (let col = 0; col < length; col++) responseMask[row * seqLen + col] = 1;
  }
  const rowAdvantage = Array.from({ length: batch }, () => rng.normal());
  const advantages = new Float64Array(size).map((_, i) => at(rowAdvantage, Math.floor(i / seqLen)));
  const oldLogp = new Float64Array(size).map(() => -Math.abs(rng.normal()) * 2 - 0.1);
  const logp = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const pick = rng.next();
    // mostly near the trust region, some far (dual clip), a few past the ±20 clamp
    const delta = pick < 0.75 ? rng.normal() * 0.4 : pick < 0.95 ? 1.5 + rng.next() * 2 : 21 + rng.next();
    logp[i] = at(oldLogp, i) + delta;
  }
  const refLogp = new Float64Array(size).map((_, i) => at(logp, i) + rng.normal() * 0.5);
  const entropy = new Float64Array(size).map(() => rng.next() * 3);
  return { responseMask, advantages, oldLogp, logp, refLogp, entropy };
}

/** True when logp sits within `margin` of a point where the loss is not differentiable. */
function nearKink(options: GrpoLossOptions, index: number, margin: number): boolean {
  const config = resolvePolicyLossConfig(options.config);
  const delta = at(options.logp, index) - at(options.oldLogp, index);
  const ratio = Math.exp(delta);
  const kinks = [1 - config.clipRatioLow, 1 + config.clipRatioHigh, config.clipRatioC];
  if (kinks.some((kink) => Math.abs(Math.log(kink) - delta) < margin)) return true;
  if (Math.abs(Math.abs(delta) - 20) < margin || ratio < 0) return true;
  if (options.refLogp !== undefined) {
    const diff = at(options.logp, index) - at(options.refLogp, index);
    if (Math.abs(diff) < margin) return true; // abs
    const x = -diff;
    if (Math.abs(Math.exp(x) - x - 1 - 10) < 1e-3 || Math.abs(Math.abs(x) - 20) < margin) return true; // k3 clamps
  }
  return false;
}

describe('computeGrpoLoss: dLoss/dlogp against float64 central finite differences', () => {
  const h = 1e-6;

  function check(options: GrpoLossOptions): number {
    const result = computeGrpoLoss(options);
    const logp = Float64Array.from(options.logp);
    let checked = 0;
    let valid = 0;
    for (let i = 0; i < logp.length; i++) {
      if (options.responseMask[i] === 1) valid++;
      if (options.responseMask[i] !== 1 || nearKink(options, i, 1e-4)) continue;
      const original = at(logp, i);
      logp[i] = original + h;
      const plus = computeGrpoLoss({ ...options, logp }).loss;
      logp[i] = original - h;
      const minus = computeGrpoLoss({ ...options, logp }).loss;
      logp[i] = original;
      const numeric = (plus - minus) / (2 * h);
      expect(Math.abs(at(result.dLossDLogp, i) - numeric)).toBeLessThan(1e-8);
      checked++;
    }
    // almost every response token is away from a kink
    expect(checked).toBeGreaterThanOrEqual(valid - 2);
    return checked;
  }

  it('holds for every aggregation mode with the MASA defaults', () => {
    const rng = createRng(2024);
    for (const lossAggMode of LOSS_AGG_MODES) {
      const data = randomBatch(rng, 5, 7);
      const checked = check({ ...data, seqLen: 7, config: { lossAggMode } });
      expect(checked).toBeGreaterThan(10);
    }
  });

  it('holds with a KL term of every estimator and an entropy bonus', () => {
    const rng = createRng(77);
    let checked = 0;
    for (const klLossType of KL_PENALTY_BASES) {
      const data = randomBatch(rng, 6, 8);
      const config: PolicyLossConfig = {
        lossAggMode: 'seq-mean-token-mean',
        useKlLoss: true,
        klLossCoef: 0.3,
        klLossType,
        entropyCoeff: 0.02,
      };
      checked += check({ ...data, seqLen: 8, config });
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('holds for dLoss/dentropy too', () => {
    const rng = createRng(13);
    const data = randomBatch(rng, 4, 5);
    const options: GrpoLossOptions = { ...data, seqLen: 5, config: { entropyCoeff: 0.05, lossAggMode: 'seq-mean-token-sum' } };
    const result = computeGrpoLoss(options);
    const entropy = Float64Array.from(data.entropy);
    for (let i = 0; i < entropy.length; i++) {
      if (data.responseMask[i] !== 1) continue;
      const original = at(entropy, i);
      entropy[i] = original + h;
      const plus = computeGrpoLoss({ ...options, entropy }).loss;
      entropy[i] = original - h;
      const minus = computeGrpoLoss({ ...options, entropy }).loss;
      entropy[i] = original;
      expect(Math.abs(at(result.dLossDEntropy ?? [], i) - (plus - minus) / (2 * h))).toBeLessThan(1e-8);
    }
  });

  it('a k3+ KL term takes the k2 gradient while its value stays k3', () => {
    const rng = createRng(5);
    const data = randomBatch(rng, 3, 4);
    const base = { ...data, seqLen: 4 };
    const plus = computeGrpoLoss({ ...base, config: { useKlLoss: true, klLossCoef: 1, klLossType: 'k3+' } });
    const k3 = computeGrpoLoss({ ...base, config: { useKlLoss: true, klLossCoef: 1, klLossType: 'k3' } });
    const k2 = computeGrpoLoss({ ...base, config: { useKlLoss: true, klLossCoef: 1, klLossType: 'k2' } });
    expect(plus.loss).toBeCloseTo(k3.loss, 14);
    plus.dLossDLogp.forEach((value, i) => expect(value).toBeCloseTo(at(k2.dLossDLogp, i), 14));
  });
});

describe('computeGrpoLoss: micro-batches', () => {
  it('weighted micro-batch losses and gradients add up to the mini-batch ones', () => {
    const rng = createRng(314);
    const batch = 8;
    const seqLen = 5;
    const data = randomBatch(rng, batch, seqLen);
    const microBatches = [[5, 0, 2], [7], [1, 3], [6, 4]];
    for (const lossAggMode of LOSS_AGG_MODES) {
      const config: PolicyLossConfig = { lossAggMode, useKlLoss: true, klLossType: 'k3' };
      const whole = computeGrpoLoss({ ...data, seqLen, config });
      const weights = computeMicroBatchWeights({ responseMask: data.responseMask, seqLen, microBatches, lossAggMode });
      let loss = 0;
      const gradient = new Float64Array(batch * seqLen);
      microBatches.forEach((rows, k) => {
        const pick = (matrix: Float64Array): Float64Array => gatherRows({ matrix, seqLen, rows });
        const micro = computeGrpoLoss({
          logp: pick(data.logp),
          oldLogp: pick(data.oldLogp),
          advantages: pick(data.advantages),
          responseMask: pick(data.responseMask),
          refLogp: pick(data.refLogp),
          seqLen,
          config,
          context: { microBatch: k },
        });
        loss += at(weights, k) * micro.loss;
        rows.forEach((row, r) => {
          for (let col = 0; col < seqLen; col++) {
            gradient[row * seqLen + col] = at(weights, k) * at(micro.dLossDLogp, r * seqLen + col);
          }
        });
      });
      expect(loss).toBeCloseTo(whole.loss, 12);
      gradient.forEach((value, i) => expect(value).toBeCloseTo(at(whole.dLossDLogp, i), 12));
    }
  });

  it('global normalisers give the same split without weights (token-mean)', () => {
    const rng = createRng(21);
    const seqLen = 4;
    const data = randomBatch(rng, 6, seqLen);
    const whole = computeGrpoLoss({ ...data, seqLen });
    const batchNumTokens = data.responseMask.reduce((a, b) => a + b, 0);
    let loss = 0;
    for (const rows of [[0, 1, 2], [3, 4, 5]]) {
      const pick = (matrix: Float64Array): Float64Array => gatherRows({ matrix, seqLen, rows });
      loss += computeGrpoLoss({
        logp: pick(data.logp),
        oldLogp: pick(data.oldLogp),
        advantages: pick(data.advantages),
        responseMask: pick(data.responseMask),
        seqLen,
        batchNumTokens,
      }).loss;
    }
    expect(loss).toBeCloseTo(whole.loss, 12);
  });
});

describe('computeGrpoLoss: bad input', () => {
  const base: GrpoLossOptions = { logp: [-1, -1], oldLogp: [-1, -1], advantages: [1, 1], responseMask: [1, 1], seqLen: 2 };

  it('asks for refLogp when the KL loss is on and for entropy when entropyCoeff ≠ 0', () => {
    const kl = errorOf(() => computeGrpoLoss({ ...base, config: { useKlLoss: true } }));
    expect(kl.code).toBe('ARGUMENT_INVALID');
    expect(kl.message).toContain('refLogp');
    const entropy = errorOf(() => computeGrpoLoss({ ...base, config: { entropyCoeff: 0.001 } }));
    expect(entropy.message).toContain('entropy');
  });

  it('throws NUMERIC_INSTABILITY with the step and batch ids for a non-finite value on a response token', () => {
    const error = errorOf(() =>
      computeGrpoLoss({ ...base, oldLogp: [-1, Number.POSITIVE_INFINITY], context: { step: 12, miniBatch: 1 } }),
    );
    expect(error.code).toBe('NUMERIC_INSTABILITY');
    expect(error.message).toContain('step 12, miniBatch 1');
    expect(error.details).toMatchObject({ step: 12, miniBatch: 1, field: 'oldLogp', index: 1 });
  });

  it('rejects bad config values and verl snake_case keys', () => {
    expect(errorOf(() => computeGrpoLoss({ ...base, config: { clipRatioC: 0.5 } })).message).toContain('clip_ratio_c');
    const snake = { clip_ratio_high: 0.28 } as unknown as PolicyLossConfig;
    expect(errorOf(() => computeGrpoLoss({ ...base, config: snake })).message).toContain('clipRatioHigh');
    const unknown = { clipHigh: 0.28 } as unknown as PolicyLossConfig;
    expect(errorOf(() => computeGrpoLoss({ ...base, config: unknown })).code).toBe('CONFIG_INVALID');
    const badType = { klLossType: 'full' } as unknown as PolicyLossConfig;
    expect(errorOf(() => computeGrpoLoss({ ...base, config: badType })).code).toBe('CONFIG_INVALID');
  });
});
