import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LossSpec, TrainSequence } from '@masa-rl/core';
import { createFakeBackend } from './fake-backend.js';

const policy: LossSpec = { kind: 'policy', temperature: 0.7, clipRatioLow: 0.2, clipRatioHigh: 0.28, clipRatioC: 10, entropyCoeff: 0, kl: { coef: 0.3, type: 'k2' } };

function batch(oldShift: number): TrainSequence[] {
  return [
    { promptTokenIds: [1, 2], responseTokenIds: [5, 9, 3], lossWeight: 0.25, advantage: 0.8, oldLogprobs: [-0.5 + oldShift, -0.9, -0.6], refLogprobs: [-0.7, -0.6, -0.8] },
    { promptTokenIds: [4], responseTokenIds: [2, 2], lossWeight: 0.5, advantage: -1.3, oldLogprobs: [-0.4, -0.8 + oldShift], refLogprobs: [-0.6, -0.5] },
  ];
}

/** The loss of `sequences` at the given weights, through the public save/load path of a fresh backend. */
async function lossAt(weights: Float64Array, sequences: TrainSequence[], loss: LossSpec): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-'));
  await writeFile(join(dir, 'weights.bin'), new Uint8Array(Float64Array.from(weights).buffer));
  const probe = createFakeBackend({ parameters: weights.length });
  await probe.loadWeights(dir);
  await rm(dir, { recursive: true, force: true });
  return (await probe.forwardBackward({ sequences }, loss)).loss;
}

/** Central finite differences of the loss, one weight at a time. */
async function numericGradient(weights: Float64Array, sequences: TrainSequence[], loss: LossSpec): Promise<number[]> {
  const h = 1e-6;
  const out: number[] = [];
  for (let i = 0; i < weights.length; i++) {
    const plus = Float64Array.from(weights);
    const minus = Float64Array.from(weights);
    plus[i] = (plus[i] as number) + h;
    minus[i] = (minus[i] as number) - h;
    out.push(((await lossAt(plus, sequences, loss)) - (await lossAt(minus, sequences, loss))) / (2 * h));
  }
  return out;
}

describe('createFakeBackend', () => {
  it('accumulates the exact gradient of its loss (central finite differences in float64)', async () => {
    for (const loss of [policy, { kind: 'cross-entropy', temperature: 1.3 } as LossSpec]) {
      const backend = createFakeBackend({ parameters: 5, seed: 3 });
      const sequences = batch(0.05);
      await backend.forwardBackward({ sequences }, loss);
      const numeric = await numericGradient(backend.weights(), sequences, loss);
      expect(await backend.gradNorm()).toBeCloseTo(Math.sqrt(numeric.reduce((sum, g) => sum + g * g, 0)), 6);
    }
  });

  it('on-policy: the loss takes its own log-probs as the old ones (ratio 1), so its gradient is that of the fed current log-probs', async () => {
    const onPolicy: LossSpec = { ...(policy as Extract<LossSpec, { kind: 'policy' }>), onPolicy: true };
    const a = createFakeBackend({ parameters: 5, seed: 3 });
    const sequences = batch(0).map(({ oldLogprobs: _, ...sequence }) => sequence);
    const own = await a.forwardBackward({ sequences }, onPolicy);
    const b = createFakeBackend({ parameters: 5, seed: 3 });
    const current = await b.logprobs({ sequences, temperature: 0.7 });
    const fed = await b.forwardBackward({ sequences: sequences.map((sequence, row) => ({ ...sequence, oldLogprobs: current[row] as number[] })) }, policy);
    expect(own.loss).toBeCloseTo(fed.loss, 12);
    expect(await a.gradNorm()).toBeCloseTo(await b.gradNorm(), 12);
    expect(await a.gradNorm()).toBeGreaterThan(0);
    await expect(createFakeBackend({ parameters: 5 }).forwardBackward({ sequences }, policy)).rejects.toThrow(/oldLogprobs/);
  });

  it('applies torch-style AdamW with global-norm clipping, then clears the gradient', async () => {
    const backend = createFakeBackend({ parameters: 3, seed: 1 });
    const before = backend.weights();
    const sequences = batch(0);
    await backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
    const gradient = await numericGradient(before, sequences, { kind: 'cross-entropy' });
    const norm = Math.sqrt(gradient.reduce((sum, g) => sum + g * g, 0));
    const [lr, wd, eps, maxNorm] = [0.1, 0.5, 1e-3, norm / 4];
    const result = await backend.optimStep({ lr, maxGradNorm: maxNorm, weightDecay: wd, betas: [0.9, 0.999], eps });
    expect(result.skipped).toBe(false);
    expect(result.gradNorm).toBeCloseTo(norm, 6);
    const after = backend.weights();
    // Clip: ĝ = g · maxNorm / (‖g‖ + 1e-6). Adam step 1: m̂ = ĝ, √v̂ = |ĝ|. Decoupled decay first.
    const scale = maxNorm / (norm + 1e-6);
    for (let i = 0; i < 3; i++) {
      const clipped = (gradient[i] as number) * scale;
      const expected = (before[i] as number) * (1 - lr * wd) - (lr * clipped) / (Math.abs(clipped) + eps);
      expect(after[i]).toBeCloseTo(expected, 6);
    }
    expect(await backend.gradNorm()).toBe(0);
  });

  it('saves and restores weights and optimiser state exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-'));
    const a = createFakeBackend({ seed: 2 });
    await a.forwardBackward({ sequences: batch(0) }, policy);
    await a.optimStep({ lr: 0.01, maxGradNorm: 1, weightDecay: 0, betas: [0.9, 0.99], eps: 1e-8 });
    await a.saveWeights(dir);
    const b = createFakeBackend({ seed: 99 });
    await b.loadWeights(dir);
    await b.loadState(await a.getState());
    for (const backend of [a, b]) {
      await backend.forwardBackward({ sequences: batch(0.1) }, policy);
      await backend.optimStep({ lr: 0.01, maxGradNorm: 1, weightDecay: 0, betas: [0.9, 0.99], eps: 1e-8 });
    }
    expect(Array.from(b.weights())).toEqual(Array.from(a.weights()));
    await rm(dir, { recursive: true, force: true });
    await expect(b.loadState({})).rejects.toThrow(/adam-m\.bin/);
  });

  it('injects NaN losses and gradients at the requested call, and skips a non-finite step', async () => {
    const backend = createFakeBackend({ faults: { nanLossAtCall: 2, nanGradAtCall: 3 } });
    expect(Number.isFinite((await backend.forwardBackward({ sequences: batch(0) }, policy)).loss)).toBe(true);
    expect((await backend.forwardBackward({ sequences: batch(0) }, policy)).loss).toBeNaN();
    const before = backend.weights();
    expect(await backend.optimStep({ lr: 1, maxGradNorm: 1, weightDecay: 0, betas: [0.9, 0.99], eps: 1e-8 })).toMatchObject({ skipped: true });
    expect(backend.weights()).toEqual(before);
    expect(Number.isFinite((await backend.forwardBackward({ sequences: batch(0) }, policy)).loss)).toBe(true);
    expect(await backend.gradNorm()).toBeNaN();
  });
});
