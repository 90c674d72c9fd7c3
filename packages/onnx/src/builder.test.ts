import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createGraph } from './graph.js';
import { add, cast, mul, where } from './ops-elementwise.js';
import { gemm, matMul } from './ops-linalg.js';
import { reduceSum } from './ops-reduce.js';
import { concat, gather, reshape, slice, split, squeeze, transpose } from './ops-shape.js';
import { serializeGraph } from './serialize.js';
import { createTensorValue } from './tensor-value.js';

function graphError(build: () => unknown): MasaError {
  try {
    build();
  } catch (error: unknown) {
    if (MasaError.hasCode(error, 'GRAPH_INVALID')) return error;
    throw error;
  }
  throw new Error('expected a GRAPH_INVALID error');
}

describe('graph builder: shape and dtype inference', () => {
  it('infers broadcast, matmul, reshape and slice shapes with symbolic dims', () => {
    const g = createGraph();
    const x = g.input('x', 'float32', ['batch', 'seq', 8]);
    const w = g.input('w', 'float32', [8, 4]);
    const y = matMul(x, w);
    expect(y.shape).toEqual(['batch', 'seq', 4]);
    expect(add(y, g.constant([1, 2, 3, 4])).shape).toEqual(['batch', 'seq', 4]);
    expect(reshape(y, [-1, 4]).shape).toEqual(['batch*seq', 4]);
    expect(reshape(y, ['batch', -1]).shape).toEqual(['batch', '4*seq']);
    expect(transpose(y, [0, 2, 1]).shape).toEqual(['batch', 4, 'seq']);
    expect(slice(y, { starts: [1], ends: [3], axes: [2] }).shape).toEqual(['batch', 'seq', 2]);
    expect(concat([y, y], 1).shape).toEqual(['batch', '(seq+seq)', 4]);
    expect(split(y, { axis: 2, numOutputs: 2 }).map((t) => t.shape)).toEqual([
      ['batch', 'seq', 2],
      ['batch', 'seq', 2],
    ]);
    const ids = g.input('ids', 'int64', ['batch', 'seq']);
    const table = g.input('table', 'float32', [100, 8]);
    expect(gather(table, ids).shape).toEqual(['batch', 'seq', 8]);
    expect(reduceSum(y, { axes: [-1], keepdims: false }).shape).toEqual(['batch', 'seq']);
    expect(cast(ids, 'float32').dtype).toBe('float32');
  });
});

describe('graph builder: malformed graphs fail at build time with the op and the shapes', () => {
  it('MatMul inner dims', () => {
    const g = createGraph();
    const error = graphError(() => matMul(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4, 5])));
    expect(error.message).toBe('MatMul: inner dims differ: a [2, 3] vs b [4, 5]');
  });

  it('Gemm inner dims with transposes', () => {
    const g = createGraph();
    const error = graphError(() => gemm(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [2, 3]), undefined, { transB: false }));
    expect(error.message).toMatch(/^Gemm: inner dims differ: a \[2, 3\] vs b \[2, 3\]/);
  });

  it('dtype mismatch', () => {
    const g = createGraph();
    const error = graphError(() => add(g.input('a', 'float32', [2]), g.input('b', 'float64', [2])));
    expect(error.message).toMatch(/^Add: dtype mismatch: float32 \[2\] vs float64 \[2\]/);
  });

  it('broadcast mismatch, with numbers and with two different symbols', () => {
    const g = createGraph();
    const a = g.input('a', 'float32', [2, 3]);
    expect(graphError(() => mul(a, g.input('b', 'float32', [4]))).message).toMatch(/^Mul: cannot broadcast dim 3 with 4: \[2, 3\] vs \[4\]/);
    const p = g.input('p', 'float32', ['batch']);
    const q = g.input('q', 'float32', ['seq']);
    expect(graphError(() => add(p, q)).message).toMatch(/^Add: cannot broadcast dim batch with seq/);
  });

  it('unknown tensor names and tensors from another graph', () => {
    const g = createGraph({ name: 'main' });
    g.input('x', 'float32', [2]);
    expect(graphError(() => g.tensor('y')).message).toBe("unknown tensor 'y' in graph main; named tensors are: x");
    const other = createGraph({ name: 'other' }).input('z', 'float32', [2]);
    expect(graphError(() => add(g.tensor('x'), other)).message).toMatch(/^Add: inputs come from different graphs/);
    expect(graphError(() => g.output('out', other)).message).toMatch(/belongs to graph 'other', not to 'main'/);
  });

  it('reshape size, concat dims, squeeze of a non-1 axis, gather index dtype, where condition dtype', () => {
    const g = createGraph();
    const x = g.input('x', 'float32', [2, 3]);
    expect(graphError(() => reshape(x, [4, 2])).message).toBe('Reshape: cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)');
    expect(graphError(() => concat([x, g.input('y', 'float32', [3, 3])], 1)).message).toBe('Concat: dim 0 differs: [2, 3] vs [3, 3]');
    expect(graphError(() => squeeze(x, [1])).message).toBe('Squeeze: axis 1 of [2, 3] has size 3, not 1');
    expect(graphError(() => gather(x, g.input('f', 'float32', [2]))).message).toMatch(/^Gather: indices must be int64 or int32, got float32/);
    expect(graphError(() => where(x, x, x)).message).toMatch(/^Where: condition must be bool, got float32/);
    expect(graphError(() => transpose(x, [0, 0])).message).toMatch(/^Transpose: perm \[0, 0\] is not a permutation/);
  });

  it('names: duplicates, reserved names, outputs required to serialise', () => {
    const g = createGraph({ name: 'g' });
    const x = g.input('x', 'float32', [2]);
    expect(graphError(() => g.input('x', 'float32', [2])).message).toMatch(/name 'x' is already used/);
    expect(graphError(() => g.input('_t3', 'float32', [2])).message).toMatch(/reserved/);
    expect(graphError(() => serializeGraph(g)).message).toMatch(/has no outputs/);
    g.output('y', add(x, 1));
    expect(graphError(() => g.output('y', x)).message).toMatch(/declared twice/);
    expect(graphError(() => g.input('bad', 'float32', [-1])).message).toMatch(/bad dim -1/);
    expect(() => g.initializer('w', createTensorValue('float32', [2], [1, 2]))).not.toThrow();
  });
});
