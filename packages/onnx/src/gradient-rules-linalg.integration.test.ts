import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { fusedMatMul, gemm, matMul } from './ops-linalg.js';
import { checkGradients } from './testing/gradient-check.js';
import { randomTensor } from './testing/random-tensor.js';

const rng = createRng('linalg-gradients');
const f64 = (dims: number[]) => randomTensor(rng, 'float64', dims);
const TOL64 = 1e-6;

describe('matrix product gradient rules vs finite differences (float64)', () => {
  const matMulCases: [string, number[], number[], Record<string, (string | number)[]>?][] = [
    ['2-D', [3, 4], [4, 2]],
    ['batched', [2, 3, 4], [2, 4, 5]],
    ['broadcast batch dims on both sides', [2, 1, 3, 4], [3, 4, 2]],
    ['linear layer (batched activations, 2-D weight)', [2, 3, 4], [4, 5]],
    ['linear layer with symbolic batch dims', [2, 3, 4], [4, 5], { a: ['batch', 'seq', 4] }],
    ['2-D activations, batched weights', [3, 4], [2, 4, 5]],
    ['vector @ matrix', [4], [4, 3]],
    ['batched matrix @ vector', [2, 3, 4], [4]],
    ['vector @ vector', [4], [4]],
  ];
  for (const [name, aDims, bDims, declared] of matMulCases) {
    it(`MatMul: ${name}`, async () => {
      const report = await checkGradients({
        inputs: { a: f64(aDims), b: f64(bDims) },
        ...(declared ? { declaredShapes: declared } : {}),
        wrt: ['a', 'b'],
        build: ({ a, b }) => matMul(a!, b!),
      });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    });
  }

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`Gemm transA=${transA} transB=${transB} with alpha, beta and a broadcast bias`, async () => {
        const report = await checkGradients({
          inputs: { a: f64(transA ? [4, 3] : [3, 4]), b: f64(transB ? [2, 4] : [4, 2]), c: f64([2]) },
          wrt: ['a', 'b', 'c'],
          build: ({ a, b, c }) => gemm(a!, b!, c!, { alpha: 0.5, beta: 2, transA, transB }),
        });
        expect(report.maxRelativeError).toBeLessThan(TOL64);
      });
      it(`FusedMatMul (com.microsoft) transA=${transA} transB=${transB}, batched with broadcast`, async () => {
        const report = await checkGradients({
          inputs: { a: f64(transA ? [2, 4, 3] : [2, 3, 4]), b: f64(transB ? [5, 4] : [4, 5]) },
          wrt: ['a', 'b'],
          build: ({ a, b }) => fusedMatMul(a!, b!, { transA, transB }),
        });
        expect(report.maxRelativeError).toBeLessThan(TOL64);
      });
    }
  }
});
