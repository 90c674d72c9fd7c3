import { createRng, MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createAdamW } from './adamw.js';

/** Independent float64 reference: AdamW as written in Loshchilov & Hutter (2019), Algorithm 2, with PyTorch's ε placement. */
function referenceAdamW(
  p0: number[],
  gradients: number[][],
  { lr, beta1, beta2, eps, wd }: { lr: number; beta1: number; beta2: number; eps: number; wd: number },
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  gradients.forEach((g, stepIndex) => {
    const t = stepIndex + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] = p[i]! - lr * wd * p[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
      v[i] = beta2 * v[i]! + (1 - beta2) * g[i]! ** 2;
      const mHat = m[i]! / (1 - beta1 ** t);
      const vHat = v[i]! / (1 - beta2 ** t);
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  });
  return p;
}

describe('AdamW', () => {
  it('first step moves each weight by about lr against the gradient sign (hand-computed)', () => {
    const p = Float32Array.from([1, -2, 0.5]);
    const optimizer = createAdamW({ parameters: [p], learningRate: 0.1, weightDecay: 0 });
    const result = optimizer.step([Float32Array.from([0.5, -3, 0])]);
    // m̂ = g, v̂ = g², so the update is lr · g / (|g| + ε): ±0.1, and 0 for a zero gradient.
    expect(p[0]).toBeCloseTo(0.9, 6);
    expect(p[1]).toBeCloseTo(-1.9, 6);
    expect(p[2]).toBe(0.5);
    expect(result).toEqual({ step: 1, gradNorm: Math.sqrt(0.25 + 9), clipScale: 1, skipped: false });
  });

  it('matches an independent float64 reference over 20 steps with weight decay', () => {
    const rng = createRng('adamw-reference');
    const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-6, wd: 0.1 };
    const p0 = Array.from({ length: 7 }, () => rng.normal());
    const gradients = Array.from({ length: 20 }, () => p0.map(() => rng.normal()));
    const p = Float32Array.from(p0);
    const optimizer = createAdamW({
      parameters: [p],
      learningRate: hyper.lr,
      beta1: hyper.beta1,
      beta2: hyper.beta2,
      epsilon: hyper.eps,
      weightDecay: hyper.wd,
    });
    // The reference sees the same float32-rounded start and gradients.
    const p0Rounded = Array.from(Float32Array.from(p0));
    const gradientsRounded = gradients.map((g) => Array.from(Float32Array.from(g)));
    for (const g of gradientsRounded) optimizer.step([Float32Array.from(g)]);
    const expected = referenceAdamW(p0Rounded, gradientsRounded, hyper);
    expected.forEach((value, i) => expect(Math.abs(p[i]! - value)).toBeLessThan(1e-5 * Math.max(1, Math.abs(value))));
  });

  it('skips weight decay where the mask says so', () => {
    const decayed = Float32Array.from([2]);
    const kept = Float32Array.from([2]);
    const optimizer = createAdamW({ parameters: [decayed, kept], learningRate: 0.1, weightDecay: 0.5, weightDecayMask: [true, false] });
    optimizer.step([new Float32Array(1), new Float32Array(1)]);
    expect(decayed[0]).toBeCloseTo(2 * (1 - 0.1 * 0.5), 6);
    expect(kept[0]).toBe(2);
  });

  it('clips the global gradient norm and reports the norm before clipping', () => {
    const a = new Float32Array(2);
    const b = new Float32Array(2);
    const clipped = createAdamW({ parameters: [a, b], learningRate: 0.1, weightDecay: 0, maxGradNorm: 1 });
    const result = clipped.step([Float32Array.from([3, 0]), Float32Array.from([0, 4])]);
    expect(result.gradNorm).toBeCloseTo(5, 12);
    expect(result.clipScale).toBeCloseTo(1 / (5 + 1e-6), 12);
    // The first moment holds (1 - beta1) × the clipped gradient.
    const state = clipped.getState();
    expect(state.firstMoments[0]![0]).toBeCloseTo(0.1 * 3 * result.clipScale, 6);
    expect(state.firstMoments[1]![1]).toBeCloseTo(0.1 * 4 * result.clipScale, 6);
  });

  it('skips the whole step on a non-finite gradient norm', () => {
    const p = Float32Array.from([1, 2]);
    const optimizer = createAdamW({ parameters: [p], learningRate: 0.1, maxGradNorm: 1 });
    optimizer.step([Float32Array.from([0.1, 0.2])]);
    const before = optimizer.getState();
    const weights = p.slice();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const result = optimizer.step([Float32Array.from([bad, 0.2])]);
      expect(result.skipped).toBe(true);
      expect(Number.isFinite(result.gradNorm)).toBe(false);
      expect(Array.from(p)).toEqual(Array.from(weights));
      expect(optimizer.getState()).toEqual(before);
      expect(optimizer.stepCount).toBe(1);
    }
  });

  it('resumes bit-identically from getState()/loadState()', () => {
    const rng = createRng('adamw-resume');
    const gradients = Array.from({ length: 6 }, () => [Float32Array.from({ length: 5 }, () => rng.normal()), Float32Array.from({ length: 3 }, () => rng.normal())]);
    const a = [Float32Array.from([1, 2, 3, 4, 5]), Float32Array.from([-1, 0, 1])];
    const first = createAdamW({ parameters: a, learningRate: 0.05 });
    for (const g of gradients.slice(0, 3)) first.step(g);
    const saved = first.getState();
    const savedWeights = a.map((p) => p.slice());
    for (const g of gradients.slice(3)) first.step(g);

    const b = savedWeights.map((p) => p.slice());
    const resumed = createAdamW({ parameters: b, learningRate: 0.05 });
    resumed.loadState(saved);
    for (const g of gradients.slice(3)) resumed.step(g);
    expect(b.map((p) => Array.from(p))).toEqual(a.map((p) => Array.from(p)));
    expect(resumed.getState()).toEqual(first.getState());
    // getState returns copies.
    saved.firstMoments[0]![0] = 123;
    expect(resumed.getState().firstMoments[0]![0]).not.toBe(123);
  });

  it('rejects mismatched gradients, states and options with fitting codes', () => {
    const p = new Float32Array(3);
    const optimizer = createAdamW({ parameters: [p] });
    const code = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error: unknown) {
        return MasaError.isInstance(error) ? error.code : 'not a MasaError';
      }
      return undefined;
    };
    expect(code(() => optimizer.step([new Float32Array(2)]))).toBe('ARGUMENT_INVALID');
    expect(code(() => optimizer.step([]))).toBe('ARGUMENT_INVALID');
    expect(code(() => optimizer.loadState({ step: 1, firstMoments: [new Float32Array(2)], secondMoments: [new Float32Array(3)] }))).toBe('CHECKPOINT_INVALID');
    expect(code(() => optimizer.loadState({ step: -1, firstMoments: [new Float32Array(3)], secondMoments: [new Float32Array(3)] }))).toBe('CHECKPOINT_INVALID');
    expect(code(() => createAdamW({ parameters: [p], beta1: 1 }))).toBe('CONFIG_INVALID');
    expect(code(() => createAdamW({ parameters: [p], weightDecayMask: [true, false] }))).toBe('CONFIG_INVALID');
    expect(code(() => createAdamW({ parameters: [p], maxGradNorm: 0 }))).toBe('CONFIG_INVALID');
  });
});
