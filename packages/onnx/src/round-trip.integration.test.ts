import { afterAll, describe, expect, it } from 'vitest';
import { createGraph } from './graph.js';
import { add, exp, mul, relu, sigmoid, sub, where, greater, cast, tanh } from './ops-elementwise.js';
import { gemm, matMul } from './ops-linalg.js';
import { logSoftmax, reduceMax, reduceMean, reduceSum, softmax } from './ops-reduce.js';
import { concat, gather, reshape, slice, split, transpose, unsqueeze, expand, full } from './ops-shape.js';
import { rmsNormalization } from './ops-normalization.js';
import { serializeGraph } from './serialize.js';
import { createSession, type Session } from './session.js';
import { createTensorValue } from './tensor-value.js';
import { fromBfloat16Bits, toBfloat16Bits, toFloat16Bits } from './half-precision.js';

const sessions: Session[] = [];
afterAll(async () => {
  for (const session of sessions) await session.release();
});

async function open(bytes: Uint8Array): Promise<Session> {
  const session = await createSession({ model: bytes });
  sessions.push(session);
  return session;
}

describe('builder → ONNX → onnxruntime round trip', () => {
  it('runs a small MLP with symbolic batch and matches a plain-TS evaluation', async () => {
    const g = createGraph({ name: 'mlp' });
    const x = g.input('x', 'float32', ['batch', 3]);
    const w = g.input('w', 'float32', [3, 2]);
    const b = g.initializer('b', createTensorValue('float32', [2], [0.5, -1]));
    const h = relu(add(matMul(x, w), b)); // [batch, 2]
    g.output('h', h);
    g.output('total', reduceSum(h, { keepdims: false }));
    const session = await open(serializeGraph(g));
    expect(session.inputNames).toEqual(['x', 'w']);
    expect(session.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([
      ['h', 'float32', ['batch', 2]],
      ['total', 'float32', []],
    ]);
    const xs = [1, 2, 3, -1, 0.5, 2, 0, 0, 0, 4, -3, 1];
    const ws = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6];
    const out = await session.run({
      x: createTensorValue('float32', [4, 3], xs),
      w: createTensorValue('float32', [3, 2], ws),
    });
    // Plain TS reference.
    const expected: number[] = [];
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 2; c++) {
        let acc = c === 0 ? 0.5 : -1;
        for (let k = 0; k < 3; k++) acc += xs[r * 3 + k]! * ws[k * 2 + c]!;
        expected.push(Math.max(acc, 0));
      }
    }
    expect(out['h']!.dims).toEqual([4, 2]);
    Array.from(out['h']!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(out['total']!.data[0] as number).toBeCloseTo(expected.reduce((a, v) => a + v, 0), 4);
  });

  it('runs shape ops, softmax, gemm, rms normalisation and gather in float64', async () => {
    const g = createGraph({ name: 'mixed' });
    const x = g.input('x', 'float64', [2, 4]);
    const ids = g.input('ids', 'int64', [3]);
    const soft = softmax(x); // [2, 4]
    const logSoft = logSoftmax(x, { axis: 0 }); // [2, 4]
    const t = transpose(x); // [4, 2]
    const r = reshape(x, [4, 2]);
    const gm = gemm(x, r, undefined, { transB: false }); // [2, 2]
    const [left, right] = split(x, { axis: 1, sizes: [1, 3] }) as [typeof x, typeof x];
    const cat = concat([right, left], 1); // rotate columns
    const sl = slice(x, { starts: [1], ends: [3], axes: [1] }); // [2, 2]
    const rms = rmsNormalization(x, g.constant(createTensorValue('float64', [4], [1, 2, 3, 4])), { epsilon: 1e-6 });
    const rows = gather(t, ids); // [3, 2]
    const maxes = reduceMax(x, { axes: [1], keepdims: false });
    const mean = reduceMean(x, { axes: [0] });
    const wh = where(greater(x, 0), exp(x), mul(x, 2));
    const sig = sub(sigmoid(x), tanh(x));
    const ex = expand(unsqueeze(maxes, [1]), [2, 3]);
    const filled = full(g, [2], 7, { dtype: 'float64' });
    const casted = cast(x, 'float32');
    for (const [name, value] of Object.entries({ soft, logSoft, t, gm, cat, sl, rms, rows, maxes, mean, wh, sig, ex, filled, casted })) {
      g.output(name, value);
    }
    const session = await open(serializeGraph(g));
    const xs = [0.5, -1, 2, 0.25, 1.5, 0, -0.5, 3];
    const out = await session.run({
      x: createTensorValue('float64', [2, 4], xs),
      ids: createTensorValue('int64', [3], [3n, 0n, 3n]),
    });
    const at = (row: number, col: number): number => xs[row * 4 + col]!;
    const data = (name: string): number[] => Array.from(out[name]!.data as Float64Array, Number);
    // softmax over rows
    for (let row = 0; row < 2; row++) {
      const z = [0, 1, 2, 3].reduce((a, c) => a + Math.exp(at(row, c)), 0);
      for (let col = 0; col < 4; col++) expect(data('soft')[row * 4 + col]).toBeCloseTo(Math.exp(at(row, col)) / z, 12);
    }
    for (let col = 0; col < 4; col++) {
      const lse = Math.log(Math.exp(at(0, col)) + Math.exp(at(1, col)));
      expect(data('logSoft')[col]).toBeCloseTo(at(0, col) - lse, 12);
      expect(data('logSoft')[4 + col]).toBeCloseTo(at(1, col) - lse, 12);
      expect(data('t')[col * 2]).toBe(at(0, col));
      expect(data('mean')[col]).toBeCloseTo((at(0, col) + at(1, col)) / 2, 12);
    }
    // gemm: x [2,4] @ reshape(x)[4,2]
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        let acc = 0;
        for (let k = 0; k < 4; k++) acc += at(i, k) * xs[k * 2 + j]!;
        expect(data('gm')[i * 2 + j]).toBeCloseTo(acc, 12);
      }
    expect(data('cat')).toEqual([-1, 2, 0.25, 0.5, 0, -0.5, 3, 1.5]);
    expect(data('sl')).toEqual([-1, 2, 0, -0.5]);
    for (let row = 0; row < 2; row++) {
      const ms = [0, 1, 2, 3].reduce((a, c) => a + at(row, c) ** 2, 0) / 4;
      for (let col = 0; col < 4; col++) {
        expect(data('rms')[row * 4 + col]).toBeCloseTo((at(row, col) / Math.sqrt(ms + 1e-6)) * (col + 1), 6);
      }
    }
    expect(data('rows')).toEqual([at(0, 3), at(1, 3), at(0, 0), at(1, 0), at(0, 3), at(1, 3)]);
    expect(data('maxes')).toEqual([2, 3]);
    expect(data('wh')).toEqual(xs.map((v) => (v > 0 ? Math.exp(v) : v * 2)));
    data('sig').forEach((v, i) => expect(v).toBeCloseTo(1 / (1 + Math.exp(-xs[i]!)) - Math.tanh(xs[i]!), 12));
    expect(data('ex')).toEqual([2, 2, 2, 3, 3, 3]);
    expect(data('filled')).toEqual([7, 7]);
    expect(out['casted']!.dtype).toBe('float32');
  });

  it('resolves symbolic reshape targets at run time', async () => {
    const g = createGraph();
    const x = g.input('x', 'float32', ['batch', 'seq', 6]);
    const heads = reshape(x, ['batch', 'seq', 2, 3]);
    const flat = reshape(x, [-1, 6]); // [batch*seq, 6]
    expect(flat.shape).toEqual(['batch*seq', 6]);
    const back = reshape(flat, ['batch', 'seq', 6]);
    g.output('heads', heads);
    g.output('back', back);
    const session = await open(serializeGraph(g));
    const data = Float32Array.from({ length: 2 * 5 * 6 }, (_, i) => i);
    const out = await session.run({ x: { dtype: 'float32', dims: [2, 5, 6], data } });
    expect(out['heads']!.dims).toEqual([2, 5, 2, 3]);
    expect(out['back']!.dims).toEqual([2, 5, 6]);
    expect(Array.from(out['back']!.data as Float32Array)).toEqual(Array.from(data));
  });

  it('casts to float16 and bfloat16 with the same rounding as toFloat16Bits/toBfloat16Bits', async () => {
    const g = createGraph();
    const x = g.input('x', 'float32', [6]);
    g.output('half', cast(x, 'float16'));
    g.output('back', cast(cast(x, 'bfloat16'), 'float32'));
    const session = await open(serializeGraph(g));
    const values = [1, -2, 0.1, 65504, 1e-7, 3.14159];
    const out = await session.run({ x: createTensorValue('float32', [6], values) });
    expect(out['half']!.dtype).toBe('float16');
    expect(Array.from(out['half']!.data as Uint16Array)).toEqual(values.map(toFloat16Bits));
    expect(Array.from(out['back']!.data as Float32Array)).toEqual(values.map((v) => fromBfloat16Bits(toBfloat16Bits(v))));
  });
});
