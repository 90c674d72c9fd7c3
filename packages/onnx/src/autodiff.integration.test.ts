import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { customOp } from './custom-op.js';
import { differentiableOps } from './gradient-rules.js';
import { createGraph } from './graph.js';
import { add, exp, floor, greater, mul, sign, stopGradient, tanh, where } from './ops-elementwise.js';
import { matMul } from './ops-linalg.js';
import { reduceSum } from './ops-reduce.js';
import { gather } from './ops-shape.js';
import { graphStats, serializeGraph } from './serialize.js';
import { createSession } from './session.js';
import { createTensorValue } from './tensor-value.js';

describe('grad()', () => {
  it('returns the loss, extra outputs and one gradient per wrt tensor, in that order', async () => {
    const g = createGraph();
    const x = g.input('x', 'float64', [3]);
    const w = g.input('w', 'float64', [3]);
    const unused = g.input('unused', 'float64', [3]);
    const y = mul(x, w);
    const loss = reduceSum(y, { keepdims: false });
    const { graph, gradientNames } = grad({ loss, wrt: [w, x, unused], outputs: { y } });
    expect(graph.outputs.map((o) => o.name)).toEqual(['loss', 'y', 'grad.w', 'grad.x', 'grad.unused']);
    expect(gradientNames).toEqual(['grad.w', 'grad.x', 'grad.unused']);
    await using session = await createSession({ model: graph });
    const out = await session.run({
      x: createTensorValue('float64', [3], [1, 2, 3]),
      w: createTensorValue('float64', [3], [4, 5, 6]),
      unused: createTensorValue('float64', [3], [7, 8, 9]),
    });
    expect(Array.from(out['loss']!.data as Float64Array)).toEqual([32]);
    expect(Array.from(out['grad.w']!.data as Float64Array)).toEqual([1, 2, 3]);
    expect(Array.from(out['grad.x']!.data as Float64Array)).toEqual([4, 5, 6]);
    // A wrt tensor the loss does not depend on gets zeros.
    expect(Array.from(out['grad.unused']!.data as Float64Array)).toEqual([0, 0, 0]);
  });

  it('sums fan-out gradients with one Sum node and leaves the forward graph untouched', async () => {
    const g = createGraph();
    const x = g.input('x', 'float64', [4]);
    const a = tanh(x);
    const loss = reduceSum(add(add(mul(a, x), exp(x)), mul(x, 3)), { keepdims: false });
    const before = g.nodeCount;
    const { graph } = grad({ loss, wrt: [x] });
    expect(g.nodeCount).toBe(before);
    // x feeds tanh, mul, exp and mul(·, 3): four contributions, one Sum.
    expect(graphStats(graph).opCounts['Sum']).toBe(1);
    await using session = await createSession({ model: graph });
    const xs = [0.1, -0.4, 0.7, 1.2];
    const out = await session.run({ x: createTensorValue('float64', [4], xs) });
    const expected = xs.map((v) => (1 - Math.tanh(v) ** 2) * v + Math.tanh(v) + Math.exp(v) + 3);
    Array.from(out['grad.x']!.data as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it('emits no backward nodes for branches that do not reach a requested gradient', () => {
    const g = createGraph();
    const x = g.input('x', 'float32', [2, 3]);
    const w = g.input('w', 'float32', [3, 3]);
    const frozen = g.input('frozen', 'float32', [3, 3]);
    const h = matMul(matMul(x, frozen), w); // frozen is upstream of w: its gradient is not requested
    const loss = reduceSum(h, { keepdims: false });
    const { graph } = grad({ loss, wrt: [w] });
    const stats = graphStats(graph);
    // Forward: 2 MatMul + ReduceSum. Backward for w only: no MatMul for d/dx or d/dfrozen.
    expect(stats.opCounts['MatMul']).toBe(2);
    expect(stats.opCounts['Gemm'] ?? 0).toBe(0);
    expect(stats.opCounts['FusedMatMul'] ?? 0).toBe(1);
  });

  it('sends no gradient through integer inputs, masks or stopGradient', async () => {
    const g = createGraph();
    const table = g.input('table', 'float64', [4, 2]);
    const ids = g.input('ids', 'int64', [3]);
    const rows = gather(table, ids); // [3, 2]
    const masked = where(greater(rows, 0), rows, 0);
    const loss = reduceSum(mul(masked, stopGradient(masked)), { keepdims: false });
    const { graph } = grad({ loss, wrt: [table] });
    await using session = await createSession({ model: graph });
    const tableValues = [1, -2, 3, 4, -5, 6, 7, -8];
    const out = await session.run({
      table: createTensorValue('float64', [4, 2], tableValues),
      ids: createTensorValue('int64', [3], [2n, 2n, 0n]),
    });
    // d/dtable of sum(relu(rows) * const(relu(rows))) = relu(rows) scattered back (row 2 twice).
    const expected = [1, 0, 0, 0, 0, 2 * 6, 0, 0];
    expect(Array.from(out['grad.table']!.data as Float64Array)).toEqual(expected);
  });

  it('gives piecewise-constant ops (Floor, Sign) a zero gradient', async () => {
    const g = createGraph();
    const x = g.input('x', 'float64', [4]);
    const loss = reduceSum(add(mul(floor(x), x), sign(x)), { keepdims: false });
    const { graph } = grad({ loss, wrt: [x] });
    await using session = await createSession({ model: graph });
    const out = await session.run({ x: createTensorValue('float64', [4], [-1.5, -0.2, 0.7, 2.3]) });
    expect(Array.from(out['grad.x']!.data as Float64Array)).toEqual([-2, -1, 0, 2]);
  });

  it('fails with GRADIENT_UNDEFINED naming an op that has no rule', () => {
    const g = createGraph();
    const x = g.input('x', 'float32', [3]);
    const [y] = customOp({ opType: 'Celu', inputs: [x], outputs: [{ dtype: 'float32', shape: [3] }] });
    const loss = reduceSum(y!, { keepdims: false });
    let error: unknown;
    try {
      grad({ loss, wrt: [x] });
    } catch (caught: unknown) {
      error = caught;
    }
    expect(MasaError.hasCode(error, 'GRADIENT_UNDEFINED')).toBe(true);
    expect((error as Error).message).toMatch(/^no gradient rule for op Celu \(node Celu_\d+\)/);
  });

  it('accepts a caller-supplied rule for an op without one', async () => {
    const g = createGraph();
    const x = g.input('x', 'float64', [3]);
    const [y] = customOp({ opType: 'Celu', inputs: [x], outputs: [{ dtype: 'float64', shape: [3] }] });
    const loss = reduceSum(y!, { keepdims: false });
    const { graph } = grad({ loss, wrt: [x], rules: { Celu: (c) => [mul(c.outputGradients[0]!, 2)] } });
    expect(serializeGraph(graph).length).toBeGreaterThan(0);
  });

  it('has a rule for every op the issue lists', () => {
    const required = [
      'MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Pow', 'Tanh', 'Sigmoid',
      'Softplus', 'Erf', 'Gelu', 'Relu', 'Softmax', 'LogSoftmax', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'Reshape',
      'Transpose', 'Slice', 'Concat', 'Split', 'Squeeze', 'Unsqueeze', 'Expand', 'Gather', 'GatherElements', 'Where',
      'Cast', 'Clip', 'Min', 'Max', 'Abs', 'Identity', 'RMSNormalization', 'SimplifiedLayerNormalization',
      'SoftmaxCrossEntropyLoss', 'com.microsoft::FusedMatMul',
    ];
    expect(differentiableOps()).toEqual(expect.arrayContaining(required));
  });

  it('rejects a non-scalar loss, integer wrt tensors and tensors of other graphs', () => {
    const g = createGraph();
    const x = g.input('x', 'float32', [3]);
    const ids = g.input('ids', 'int64', [3]);
    const other = createGraph().input('x', 'float32', [3]);
    const scalar = reduceSum(x, { keepdims: false });
    expect(() => grad({ loss: x, wrt: [x] })).toThrow(/loss must be a scalar, got shape \[3\]/);
    expect(() => grad({ loss: scalar, wrt: [ids] })).toThrow(/'ids' is int64; only float tensors have gradients/);
    expect(() => grad({ loss: scalar, wrt: [other] })).toThrow(/belongs to graph/);
  });
});
