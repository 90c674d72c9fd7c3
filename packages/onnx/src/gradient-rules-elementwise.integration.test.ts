import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import {
  abs,
  add,
  cast,
  clip,
  cos,
  div,
  erf,
  exp,
  gelu,
  greater,
  identity,
  log,
  max,
  min,
  mul,
  neg,
  pow,
  reciprocal,
  relu,
  sigmoid,
  silu,
  sin,
  softplus,
  sqrt,
  sub,
  sum,
  tanh,
  where,
} from './ops-elementwise.js';
import type { Tensor } from './graph.js';
import { checkGradients } from './testing/gradient-check.js';
import { randomTensor } from './testing/random-tensor.js';
import { createTensorValue } from './tensor-value.js';

const rng = createRng('elementwise-gradients');
const f64 = (dims: number[], options = {}) => randomTensor(rng, 'float64', dims, options);
const f32 = (dims: number[], options = {}) => randomTensor(rng, 'float32', dims, options);
const TOL64 = 1e-6;

describe('elementwise gradient rules vs finite differences (float64)', () => {
  const binaryCases: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['Add', add],
    ['Sub', sub],
    ['Mul', mul],
    ['Div', div],
  ];
  for (const [name, op] of binaryCases) {
    it(`${name} with broadcasting on both sides`, async () => {
      const report = await checkGradients({
        inputs: { a: f64([2, 3, 4]), b: f64([3, 1], { awayFromZero: 0.5 }) },
        wrt: ['a', 'b'],
        build: ({ a, b }) => op(a!, b!),
      });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
      const reverse = await checkGradients({
        inputs: { a: f64([4], { awayFromZero: 0.5 }), b: f64([2, 1, 4], { awayFromZero: 0.5 }) },
        wrt: ['a', 'b'],
        build: ({ a, b }) => op(b!, a!),
      });
      expect(reverse.maxRelativeError).toBeLessThan(TOL64);
    });
  }

  it('sums broadcast gradients over symbolic dims, deciding at run time when a symbol may be 1', async () => {
    // a is declared ['batch', 3]: static decision. c is declared ['n']: broadcast against [3] is
    // only known at run time (n = 1 broadcasts, n = 3 does not).
    for (const n of [1, 3]) {
      const report = await checkGradients({
        inputs: { a: f64([2, 3]), b: f64([3]), c: f64([n]) },
        declaredShapes: { a: ['batch', 3], c: ['n'] },
        wrt: ['a', 'b', 'c'],
        build: ({ a, b, c }) => mul(add(a!, b!), add(b!, c!)),
      });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    }
  });

  it('Pow with constant exponents and with a tensor exponent', async () => {
    for (const exponent of [2, 3, 0.5, -1.5]) {
      const report = await checkGradients({
        inputs: { x: f64([2, 3], { min: 0.5, max: 2 }) },
        wrt: ['x'],
        build: ({ x }) => pow(x!, exponent),
      });
      expect(report.maxRelativeError, `exponent ${exponent}`).toBeLessThan(TOL64);
    }
    const report = await checkGradients({
      inputs: { x: f64([2, 3], { min: 0.5, max: 2 }), p: f64([3], { min: -2, max: 2 }) },
      wrt: ['x', 'p'],
      build: ({ x, p }) => pow(x!, p!),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  const unaryCases: [string, (x: Tensor) => Tensor, Record<string, number>][] = [
    ['Neg', neg, {}],
    ['Exp', exp, {}],
    ['Log', log, { min: 0.2, max: 3 }],
    ['Sqrt', sqrt, { min: 0.2, max: 3 }],
    ['Reciprocal', reciprocal, { awayFromZero: 0.3 }],
    ['Tanh', tanh, { min: -2, max: 2 }],
    ['Sigmoid', sigmoid, { min: -3, max: 3 }],
    ['Relu', relu, { awayFromZero: 0.05 }],
    ['Abs', abs, { awayFromZero: 0.05 }],
    ['Identity', identity, {}],
    ['Sin', sin, { min: -3, max: 3 }],
    ['Cos', cos, { min: -3, max: 3 }],
    ['SiLU (x * sigmoid(x))', silu, { min: -3, max: 3 }],
  ];
  for (const [name, op, range] of unaryCases) {
    it(name, async () => {
      const report = await checkGradients({ inputs: { x: f64([3, 4], range) }, wrt: ['x'], build: ({ x }) => op(x!) });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    });
  }

  it('Clip passes gradients inside the bounds and to tensor bounds outside', async () => {
    const values = createTensorValue('float64', [6], [-0.9, -0.31, 0.1, 0.29, 0.6, 0.95]);
    const report = await checkGradients({
      inputs: { x: values, low: createTensorValue('float64', [], [-0.3]), high: createTensorValue('float64', [], [0.5]) },
      wrt: ['x', 'low', 'high'],
      build: ({ x, low, high }) => clip(x!, { min: low!, max: high! }),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
    const numeric = await checkGradients({ inputs: { x: values }, wrt: ['x'], build: ({ x }) => clip(x!, { min: -0.5 }) });
    expect(numeric.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Max and Min with broadcasting', async () => {
    for (const op of [max, min]) {
      const report = await checkGradients({
        inputs: { a: f64([2, 3]), b: f64([3]) },
        wrt: ['a', 'b'],
        build: ({ a, b }) => op(a!, b!),
      });
      expect(report.maxRelativeError).toBeLessThan(TOL64);
    }
  });

  it('Where routes gradients by the (non-differentiable) condition, with broadcasting', async () => {
    const report = await checkGradients({
      inputs: { a: f64([2, 3]), b: f64([3]), m: f64([2, 1]) },
      wrt: ['a', 'b', 'm'],
      build: ({ a, b, m }) => where(greater(a!, 0), mul(a!, m!), b!),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Sum of several broadcast tensors', async () => {
    const report = await checkGradients({
      inputs: { a: f64([2, 3]), b: f64([3]), c: f64([2, 1]) },
      wrt: ['a', 'b', 'c'],
      build: ({ a, b, c }) => mul(sum([a!, b!, c!]), a!),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Cast passes gradients across dtypes (float32 input, float64 loss)', async () => {
    const report = await checkGradients({
      inputs: { x: f32([5]) },
      wrt: ['x'],
      step: 1e-3,
      build: ({ x }) => exp(cast(x!, 'float64')),
    });
    // The float64 loss makes the difference quotient accurate to ~h²; the step is read back in float32.
    expect(report.maxRelativeError).toBeLessThan(1e-5);
  });
});

describe('gradient rules for ops without float64 kernels (float32, looser tolerance)', () => {
  // ONNX Runtime 1.30 has no float64 Softplus, Erf or Gelu: checked in float32 with h = 1e-2.
  const TOL32 = 2e-3;
  const cases: [string, (x: Tensor) => Tensor][] = [
    ['Softplus', softplus],
    ['Erf', erf],
    ['Gelu (exact)', (x) => gelu(x)],
    ['Gelu (tanh)', (x) => gelu(x, { approximate: 'tanh' })],
  ];
  for (const [name, op] of cases) {
    it(name, async () => {
      const report = await checkGradients({ inputs: { x: f32([3, 4], { min: -2, max: 2 }) }, wrt: ['x'], build: ({ x }) => op(x!) });
      expect(report.maxRelativeError).toBeLessThan(TOL32);
    });
  }
});
