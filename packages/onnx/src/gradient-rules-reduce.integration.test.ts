import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { logSoftmax, reduceMax, reduceMean, reduceMin, reduceSum, softmax } from './ops-reduce.js';
import { mul } from './ops-elementwise.js';
import { rmsNormalization, simplifiedLayerNormalization } from './ops-normalization.js';
import { checkGradients } from './testing/gradient-check.js';
import { randomTensor } from './testing/random-tensor.js';

const rng = createRng('reduce-gradients');
const f64 = (dims: number[], options = {}) => randomTensor(rng, 'float64', dims, options);
const TOL64 = 1e-6;

describe('reduction, softmax and normalisation gradient rules vs finite differences (float64)', () => {
  it('ReduceSum over one axis (dropped), all axes, and kept axes', async () => {
    for (const options of [{ axes: [1], keepdims: false }, {}, { axes: [0, 2], keepdims: true }]) {
      const report = await checkGradients({ inputs: { x: f64([2, 3, 4]) }, wrt: ['x'], build: ({ x }) => reduceSum(x!, options) });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    }
  });

  it('ReduceMean with static and symbolic dims (count computed at run time)', async () => {
    for (const declared of [undefined, { x: ['a', 3, 'b'] }]) {
      const report = await checkGradients({
        inputs: { x: f64([2, 3, 4]) },
        ...(declared ? { declaredShapes: declared } : {}),
        wrt: ['x'],
        build: ({ x }) => reduceMean(x!, { axes: [0, 2], keepdims: false }),
      });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    }
  });

  it('ReduceMax and ReduceMin (distinct values)', async () => {
    for (const op of [reduceMax, reduceMin]) {
      const report = await checkGradients({ inputs: { x: f64([3, 5]) }, wrt: ['x'], build: ({ x }) => op(x!, { axes: [1], keepdims: false }) });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    }
  });

  it('Softmax and LogSoftmax on the last and the first axis', async () => {
    for (const axis of [-1, 0]) {
      for (const op of [softmax, logSoftmax]) {
        const report = await checkGradients({ inputs: { x: f64([3, 4], { min: -2, max: 2 }) }, wrt: ['x'], build: ({ x }) => op(x!, { axis }) });
        expect(report.maxRelativeError).toBeLessThan(TOL64);
      }
    }
  });

  it('RMSNormalization (opset 23) over the last axis and over the last two axes', async () => {
    const last = await checkGradients({
      inputs: { x: f64([2, 3, 4]), scale: f64([4]) },
      wrt: ['x', 'scale'],
      build: ({ x, scale }) => rmsNormalization(x!, scale!, { epsilon: 1e-5 }),
    });
    expect(last.maxRelativeError).toBeLessThan(TOL64);
    const lastTwo = await checkGradients({
      inputs: { x: f64([2, 3, 4]), scale: f64([3, 4]) },
      wrt: ['x', 'scale'],
      build: ({ x, scale }) => mul(rmsNormalization(x!, scale!, { axis: 1, epsilon: 0.01 }), 2),
    });
    expect(lastTwo.maxRelativeError).toBeLessThan(TOL64);
  });

  it('SimplifiedLayerNormalization (float32 only in ONNX Runtime: looser tolerance), reusing the saved inverse RMS', async () => {
    const report = await checkGradients({
      inputs: { x: randomTensor(rng, 'float32', [3, 8]), scale: randomTensor(rng, 'float32', [8]) },
      wrt: ['x', 'scale'],
      step: 1e-2,
      build: ({ x, scale }) => simplifiedLayerNormalization(x!, scale!, { epsilon: 1e-5 }).output,
    });
    expect(report.maxRelativeError).toBeLessThan(5e-3);
  });
});
