/**
 * Gradient rules for ops that move data: reshape, transpose, slice, pad,
 * concat, split, squeeze/unsqueeze, expand and the gathers (whose gradients
 * scatter with `reduction="add"`, so repeated indices accumulate).
 *
 * Gather's gradient is a ScatterElements, not the shorter ScatterND: ONNX
 * Runtime's CPU ScatterND with `reduction="add"` runs its updates in parallel
 * and loses some of those that hit the same row when `intraOpNumThreads` > 1
 * (measured: 962 of 1,334 counted on 2 threads; onnxruntime#18048, #23396), so
 * an embedding's gradient came out wrong and different on every run.
 * ScatterElements adds in index order on any thread count, the same sums as
 * single-threaded ScatterND bit for bit.
 */
import { MasaError } from '@masa-rl/core';
import type { GradientContext, GradientRule } from './gradient-rule.js';
import { intAttribute, intsAttribute } from './gradient-rule.js';
import { addNode, type Tensor } from './graph.js';
import { constantInts, reshapeLike, scatterAddIntoZeros, sumToShape, type ScatterGradient } from './gradient-helpers.js';
import { add, cast, less, max, min, sub, where } from './ops-elementwise.js';
import { concat, expand, pad, reshape, scatterElements, shape, slice, squeeze, transpose, unsqueeze, zerosLike } from './ops-shape.js';
import { dimTensor } from './runtime-shape.js';
import { normalizeAxis, type Dim } from './shape.js';
import { createTensorValue } from './tensor-value.js';

const gradientOf = (c: GradientContext): Tensor => c.outputGradients[0] as Tensor;

/** Size of `tensor` along `axis` as a `[1]` int64 tensor. */
function axisSize(tensor: Tensor, axis: number): Tensor {
  const dim = tensor.shape[axis] as Dim;
  const fromSymbols = dimTensor(tensor.graph, dim);
  if (fromSymbols !== undefined) return fromSymbols;
  return addNode(tensor.graph, {
    opType: 'Shape',
    inputs: [tensor],
    outputs: [{ dtype: 'int64', shape: [1] }],
    attributes: { start: { type: 'int', value: axis }, end: { type: 'int', value: axis + 1 } },
  })[0] as Tensor;
}

function int64(tensor: Tensor, values: readonly number[]): Tensor {
  return tensor.graph.constant(createTensorValue('int64', [values.length], values));
}

const sliceRule: GradientRule = (c) => {
  const x = c.inputs[0] as Tensor;
  const gy = gradientOf(c);
  const startsInput = c.inputs[1] as Tensor;
  const endsInput = c.inputs[2] as Tensor;
  const count = Number(startsInput.shape[0]);
  const axes = (constantInts('Slice', c.inputs[3]) ?? Array.from({ length: count }, (_, i) => i)).map((axis) =>
    normalizeAxis('Slice', axis, x.rank),
  );
  const steps = constantInts('Slice', c.inputs[4]) ?? axes.map(() => 1);
  if (steps.some((step) => step !== 1)) {
    throw new MasaError('GRADIENT_UNDEFINED', `no gradient rule for op Slice with steps other than 1 (node ${c.node.index}); slice with step 1 and reshape instead`);
  }
  let starts: number[] | undefined;
  let ends: number[] | undefined;
  try {
    starts = constantInts('Slice', startsInput);
    ends = constantInts('Slice', endsInput);
  } catch {
    starts = undefined;
    ends = undefined;
  }
  const dims = axes.map((axis) => x.shape[axis] as Dim);
  if (starts !== undefined && ends !== undefined && dims.every((dim) => typeof dim === 'number')) {
    const begin: number[] = [];
    const finish: number[] = [];
    axes.forEach((_, i) => {
      const dim = dims[i] as number;
      const clamp = (value: number): number => Math.min(Math.max(value < 0 ? value + dim : value, 0), dim);
      const s = clamp(starts[i] as number);
      const e = Math.max(clamp(ends[i] as number), s);
      begin.push(s);
      finish.push(dim - e);
    });
    return [pad(gy, { pads: [...begin, ...finish], axes }), undefined, undefined, undefined, undefined];
  }
  // Run-time pads: begin = clamp(start), end = dim - max(clamp(end), begin).
  const dimsTensor = concat(axes.map((axis) => axisSize(x, axis)), 0); // [n] int64
  const zero = int64(x, axes.map(() => 0));
  const clampRuntime = (value: Tensor): Tensor => {
    const shifted = where(less(value, 0), add(value, dimsTensor), value);
    return max(min(shifted, dimsTensor), zero);
  };
  const startsTensor = starts !== undefined ? int64(x, starts) : cast(startsInput, 'int64');
  const endsTensor = ends !== undefined ? int64(x, ends) : cast(endsInput, 'int64');
  const begin = clampRuntime(startsTensor);
  const finish = sub(dimsTensor, max(clampRuntime(endsTensor), begin));
  const padded = pad(gy, { pads: concat([begin, finish], 0), axes });
  return [reshapeLike(padded, x), undefined, undefined, undefined, undefined];
};

/**
 * Adds `updates` `[indices..., tail...]` into the rows `indices` of a `[rows, tail...]` target, as a ScatterElements
 * along axis 0 over the flattened indices (`[n]`, broadcast to the updates' `[n, tail...]`).
 */
function rowScatter(target: Tensor, indices: Tensor, updates: Tensor): ScatterGradient {
  const graph = target.graph;
  const flatShape = concat([graph.constant([-1], { dtype: 'int64' }), shape(target, { start: 1 })], 0);
  const flatUpdates = reshape(updates, flatShape); // [n, tail...]
  const flatIndices = reshape(indices, [-1]); // [n]
  const tailAxes = Array.from({ length: target.rank - 1 }, (_, i) => i + 1);
  const rowIndices = expand(unsqueeze(flatIndices, tailAxes), shape(flatUpdates)); // [n, tail...]: each row's index
  return { indices: rowIndices, updates: flatUpdates, axis: 0 };
}

const gatherRule: GradientRule = (c) => {
  const data = c.inputs[0] as Tensor;
  const indicesRaw = c.inputs[1] as Tensor;
  const gy = gradientOf(c);
  const axis = normalizeAxis('Gather', intAttribute(c.node, 'axis', 0), data.rank);
  // Negative indices count from the end: make them non-negative for the scatter.
  const indices64 = cast(indicesRaw, 'int64');
  const size = squeeze(axisSize(data, axis), [0]);
  const indices = where(less(indices64, 0), add(indices64, size), indices64);
  const r = indicesRaw.rank;
  if (axis === 0) {
    // gy: [indices..., data[1:]...]
    return [scatterAddIntoZeros(data, rowScatter(data, indices, gy)), undefined];
  }
  // Move the gathered axis to the front, scatter, move it back.
  const dataPerm = [axis, ...Array.from({ length: data.rank }, (_, i) => i).filter((i) => i !== axis)];
  const dataT = transpose(data, dataPerm);
  // gy axes: [0..axis) data lead, [axis..axis+r) indices, rest data tail.
  const gyPerm = [
    ...Array.from({ length: r }, (_, i) => axis + i),
    ...Array.from({ length: axis }, (_, i) => i),
    ...Array.from({ length: gy.rank - axis - r }, (_, i) => axis + r + i),
  ];
  const rows = rowScatter(dataT, indices, transpose(gy, gyPerm));
  const scattered = scatterElements(zerosLike(dataT), rows.indices, rows.updates, { axis: 0, reduction: 'add' });
  const inverse = new Array<number>(dataPerm.length);
  dataPerm.forEach((from, to) => {
    inverse[from] = to;
  });
  return [transpose(scattered, inverse), undefined];
};

export const SHAPE_RULES: Readonly<Record<string, GradientRule>> = {
  Reshape: (c) => [reshapeLike(gradientOf(c), c.inputs[0] as Tensor), undefined],
  Flatten: (c) => [reshapeLike(gradientOf(c), c.inputs[0] as Tensor)],
  Transpose: (c) => {
    const x = c.inputs[0] as Tensor;
    const perm = intsAttribute(c.node, 'perm', undefined) ?? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i);
    const inverse = new Array<number>(perm.length);
    perm.forEach((from, to) => {
      inverse[from] = to;
    });
    return [transpose(gradientOf(c), inverse)];
  },
  Squeeze: (c) => {
    const x = c.inputs[0] as Tensor;
    return [reshapeLike(gradientOf(c), x), undefined];
  },
  Unsqueeze: (c) => {
    const x = c.inputs[0] as Tensor;
    const axes = constantInts('Unsqueeze', c.inputs[1]) ?? [];
    const y = c.outputs[0] as Tensor;
    const normalised = axes.map((axis) => normalizeAxis('Unsqueeze', axis, y.rank));
    return [reshapeLike(squeeze(gradientOf(c), normalised), x), undefined];
  },
  Expand: (c) => [sumToShape(gradientOf(c), c.inputs[0] as Tensor), undefined],
  Slice: sliceRule,
  Pad: (c) => {
    const x = c.inputs[0] as Tensor;
    const mode = c.node.attributes['mode'];
    if (mode !== undefined && !(mode.type === 'string' && mode.value === 'constant')) {
      throw new MasaError('GRADIENT_UNDEFINED', `no gradient rule for op Pad in mode ${JSON.stringify(mode.value)} (node ${c.node.index})`);
    }
    const pads = constantInts('Pad', c.inputs[1]) ?? [];
    const axes = (constantInts('Pad', c.inputs[3]) ?? Array.from({ length: x.rank }, (_, i) => i)).map((axis) => normalizeAxis('Pad', axis, x.rank));
    if (pads.some((value) => value < 0)) {
      throw new MasaError('GRADIENT_UNDEFINED', `no gradient rule for op Pad with negative pads (node ${c.node.index}); use Slice to crop`);
    }
    const starts = axes.map((_, i) => pads[i] as number);
    const ends = axes.map((_, i) => {
      const after = pads[i + axes.length] as number;
      return after === 0 ? Number.MAX_SAFE_INTEGER : -after;
    });
    return [reshapeLike(slice(gradientOf(c), { starts, ends, axes }), x), undefined, undefined, undefined];
  },
  Concat: (c) => {
    const axis = intAttribute(c.node, 'axis', 0);
    const inputs = c.inputs as Tensor[];
    const first = inputs[0] as Tensor;
    const along = normalizeAxis('Concat', axis, first.rank);
    const gy = gradientOf(c);
    const sizes = concat(inputs.map((input) => axisSize(input, along)), 0);
    const parts = addNode(c.graph, {
      opType: 'Split',
      inputs: [gy, sizes],
      outputs: inputs.map((input) => ({ dtype: gy.dtype, shape: input.shape })),
      attributes: { axis: { type: 'int', value: along } },
    });
    return parts.map((part, position) => (c.needsGradient[position] ? part : undefined));
  },
  Split: (c) => {
    const x = c.inputs[0] as Tensor;
    const axis = normalizeAxis('Split', intAttribute(c.node, 'axis', 0), x.rank);
    const parts = c.outputs.map((output, position) => c.outputGradients[position] ?? zerosLike(output));
    return [reshapeLike(concat(parts, axis), x), undefined];
  },
  Trilu: (c) => {
    const upper = intAttribute(c.node, 'upper', 1) === 1;
    const k = c.inputs[1];
    // The same mask applied to the gradient.
    const [masked] = addNode(c.graph, {
      opType: 'Trilu',
      inputs: k === undefined ? [gradientOf(c)] : [gradientOf(c), k],
      outputs: [{ dtype: gradientOf(c).dtype, shape: gradientOf(c).shape }],
      attributes: { upper: { type: 'int', value: upper ? 1 : 0 } },
    });
    return [masked, undefined];
  },
  Gather: gatherRule,
  GatherElements: (c) => {
    const data = c.inputs[0] as Tensor;
    const axis = intAttribute(c.node, 'axis', 0);
    return [scatterAddIntoZeros(data, { indices: c.inputs[1] as Tensor, updates: gradientOf(c), axis }), undefined];
  },
};
