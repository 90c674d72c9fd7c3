import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { grad } from './autodiff.js';
import { createGraph } from './graph.js';
import { add, mul } from './ops-elementwise.js';
import { matMul } from './ops-linalg.js';
import { reduceSum } from './ops-reduce.js';
import { graphStats } from './serialize.js';
import { createSession } from './session.js';
import { createTensorValue } from './tensor-value.js';
import {
  concat,
  expand,
  gather,
  gatherElements,
  pad,
  reshape,
  slice,
  split,
  squeeze,
  transpose,
  trilu,
  unsqueeze,
} from './ops-shape.js';
import { checkGradients } from './testing/gradient-check.js';
import { int64Tensor, randomTensor } from './testing/random-tensor.js';

const rng = createRng('shape-gradients');
const f64 = (dims: number[]) => randomTensor(rng, 'float64', dims);
const TOL64 = 1e-6;

describe('data-movement gradient rules vs finite differences (float64)', () => {
  it('Reshape with static and symbolic targets', async () => {
    const report = await checkGradients({
      inputs: { x: f64([2, 3, 4]) },
      declaredShapes: { x: ['batch', 3, 4] },
      wrt: ['x'],
      build: ({ x }) => [reshape(x!, [-1, 4]), reshape(x!, ['batch', 2, 6])],
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Transpose', async () => {
    const report = await checkGradients({ inputs: { x: f64([2, 3, 4]) }, wrt: ['x'], build: ({ x }) => transpose(x!, [2, 0, 1]) });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Slice with negative and clamped bounds on static dims', async () => {
    const report = await checkGradients({
      inputs: { x: f64([4, 6]) },
      wrt: ['x'],
      build: ({ x }) => [slice(x!, { starts: [1, -4], ends: [100, -1], axes: [0, 1] }), slice(x!, { starts: [-2], ends: [4], axes: [1] })],
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Slice on symbolic dims and with run-time starts (pads computed at run time)', async () => {
    const report = await checkGradients({
      inputs: { x: f64([5, 4]), starts: int64Tensor([1], [-3]), ends: int64Tensor([1], [4]) },
      declaredShapes: { x: ['n', 4] },
      wrt: ['x'],
      build: ({ x, starts, ends }) => [
        slice(x!, { starts: [1], ends: [-1], axes: [0] }),
        slice(x!, { starts: starts!, ends: ends!, axes: [0] }),
      ],
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Pad (constant mode)', async () => {
    const report = await checkGradients({ inputs: { x: f64([2, 3]) }, wrt: ['x'], build: ({ x }) => pad(x!, { pads: [1, 0, 2, 3], value: 0.5 }) });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Concat of static and symbolic pieces', async () => {
    const report = await checkGradients({
      inputs: { a: f64([2, 3]), b: f64([2, 1]), c: f64([2, 2]) },
      declaredShapes: { c: [2, 'k'] },
      wrt: ['a', 'b', 'c'],
      build: ({ a, b, c }) => concat([a!, b!, c!, a!], 1),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Split by sizes and into equal parts, with an unused part', async () => {
    const report = await checkGradients({
      inputs: { x: f64([2, 6]) },
      wrt: ['x'],
      build: ({ x }) => {
        const [p, q, r] = split(x!, { axis: 1, sizes: [1, 2, 3] });
        const [s] = split(x!, { axis: 0, numOutputs: 2 });
        return [mul(p!, 2), r!, q!, s!];
      },
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
    const unused = await checkGradients({
      inputs: { x: f64([2, 6]) },
      wrt: ['x'],
      build: ({ x }) => split(x!, { axis: 1, sizes: [4, 2] })[1]!,
    });
    expect(unused.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Squeeze, Unsqueeze and Expand', async () => {
    const report = await checkGradients({
      inputs: { x: f64([2, 1, 3]), y: f64([3, 1]) },
      wrt: ['x', 'y'],
      build: ({ x, y }) => [unsqueeze(squeeze(x!, [1]), [0, 3]), expand(y!, [2, 3, 4])],
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Trilu (upper and lower, with a diagonal offset)', async () => {
    const report = await checkGradients({
      inputs: { x: f64([2, 3, 4]) },
      wrt: ['x'],
      build: ({ x }) => [trilu(x!, { upper: true, k: 1 }), trilu(x!, { upper: false })],
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Gather on axis 0 (embedding rows) with repeated and negative indices', async () => {
    const report = await checkGradients({
      inputs: { table: f64([5, 3]), ids: int64Tensor([2, 3], [1, 4, 1, -1, 0, 1]) },
      wrt: ['table'],
      build: ({ table, ids }) => gather(table!, ids!),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Gather from a vector (rank-1 data: no row tail) with repeated indices', async () => {
    const report = await checkGradients({
      inputs: { v: f64([5]), ids: int64Tensor([2, 3], [4, 0, 4, 2, 4, -5]) },
      wrt: ['v'],
      build: ({ v, ids }) => gather(v!, ids!),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('Gather on a middle axis with 2-D repeated indices, and int32 indices', async () => {
    const report = await checkGradients({
      inputs: { x: f64([2, 4, 3]), ids: int64Tensor([2, 2], [3, 3, 0, 2]) },
      wrt: ['x'],
      build: ({ x, ids }) => gather(x!, ids!, { axis: 1 }),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
    const int32 = await checkGradients({
      inputs: { x: f64([4, 2]), ids: { dtype: 'int32', dims: [3], data: Int32Array.from([2, 2, 0]) } },
      wrt: ['x'],
      build: ({ x, ids }) => gather(x!, ids!, { axis: 0 }),
    });
    expect(int32.maxRelativeError).toBeLessThan(TOL64);
  });

  it('GatherElements with repeated indices (token log-prob pick)', async () => {
    const report = await checkGradients({
      inputs: { x: f64([3, 5]), ids: int64Tensor([3, 2], [4, 4, 0, 2, 1, 1]) },
      wrt: ['x'],
      build: ({ x, ids }) => gatherElements(x!, ids!, { axis: 1 }),
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
  });

  it('a gathered table that also gets a dense gradient (tied embeddings) scatters into the dense part: no zeros, no Sum', async () => {
    const report = await checkGradients({
      inputs: { table: f64([5, 3]), ids: int64Tensor([4], [1, 4, 1, 0]), h: f64([2, 3]) },
      wrt: ['table', 'h'],
      build: ({ table, ids, h }) => [gather(table!, ids!), matMul(h!, transpose(table!))],
    });
    expect(report.maxRelativeError).toBeLessThan(TOL64);
    const g = createGraph();
    const table = g.input('table', 'float32', [5, 3]);
    const ids = g.input('ids', 'int64', [4]);
    const h = g.input('h', 'float32', [2, 3]);
    const loss = add(reduceSum(gather(table, ids), { keepdims: false }), reduceSum(matMul(h, transpose(table)), { keepdims: false }));
    const { opCounts } = graphStats(grad({ loss, wrt: [table] }).graph);
    expect(opCounts['ScatterElements']).toBe(1);
    expect(opCounts['ScatterND'] ?? 0).toBe(0);
    expect(opCounts['ConstantOfShape'] ?? 0).toBe(0);
    expect(opCounts['Sum'] ?? 0).toBe(0);
  });

  it("Gather with many repeated indices: the exact gradient on every run, on 2 and 4 ORT threads (ORT's ScatterND lost updates there)", async () => {
    const rows = 100;
    const width = 128;
    const count = 4000;
    const g = createGraph();
    const table = g.input('table', 'float32', [rows, width]);
    const ids = g.input('ids', 'int64', [count]);
    const built = grad({ loss: reduceSum(gather(table, ids), { keepdims: false }), wrt: [table] });
    // d(sum of the gathered rows)/d(row r) is, in every column, the number of times r was gathered: small integers,
    // exact in float32 whatever the order of the additions.
    const idsValue = BigInt64Array.from({ length: count }, (_, i) => BigInt((i * 7919) % 97));
    const times = new Array<number>(rows).fill(0);
    for (const id of idsValue) times[Number(id)] = (times[Number(id)] as number) + 1;
    const feeds = { table: createTensorValue('float32', [rows, width], new Float32Array(rows * width)), ids: createTensorValue('int64', [count], idsValue) };
    for (const threads of [2, 4]) {
      const session = await createSession({ model: built.graph, intraOpNumThreads: threads });
      try {
        for (let run = 0; run < 4; run++) {
          const gradient = (await session.run(feeds))[built.gradientNames[0] as string]?.data as Float32Array;
          const wrong = [];
          for (let i = 0; i < gradient.length; i++) if (gradient[i] !== times[Math.floor(i / width)]) wrong.push(i);
          expect(wrong.length, `${threads} threads, run ${run}: ${wrong.length} wrong entries, e.g. row ${Math.floor((wrong[0] ?? 0) / width)}: ${gradient[wrong[0] ?? 0]} for ${times[Math.floor((wrong[0] ?? 0) / width)]}`).toBe(0);
        }
      } finally {
        await session.release();
      }
    }
  });
});
