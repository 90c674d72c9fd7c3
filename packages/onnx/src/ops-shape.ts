/**
 * Ops that move data without arithmetic: shape, reshape, transpose, slice,
 * pad, concat, split, squeeze/unsqueeze, expand, gather/scatter, constants of a
 * shape, `Trilu` and `Range`.
 */
import { MasaError } from '@masa-rl/core';
import type { DType } from './dtype.js';
import { addNode, anonymousDim, constantValueOf, type Graph, type Tensor } from './graph.js';
import { isTensor, requireDType, resolveOperands, type Operand } from './operands.js';
import { shapeTensorFromDims } from './runtime-shape.js';
import {
  addDims,
  broadcastShapes,
  canonicalDim,
  dimsEqual,
  divideDims,
  formatShape,
  isAnonymousDim,
  normalizeAxis,
  shapeSize,
  type Dim,
  type Shape,
} from './shape.js';
import { createTensorValue, type TensorValue } from './tensor-value.js';

function int64Constant(graph: Graph, values: readonly number[]): Tensor {
  return graph.constant(createTensorValue('int64', [values.length], values));
}

/** Options of {@link shape}. */
export interface ShapeOptions {
  /** First axis to report. @default 0 */
  start?: number;
  /** One past the last axis to report. @default rank */
  end?: number;
}

/** The shape of x as an int64 tensor (`Shape`). */
export function shape(x: Tensor, options: ShapeOptions = {}): Tensor {
  const start = normalizeAxis('Shape', options.start ?? 0, x.rank + 1);
  const end = options.end === undefined ? x.rank : options.end < 0 ? options.end + x.rank : Math.min(options.end, x.rank);
  const length = Math.max(0, end - start);
  const attributes: Record<string, { type: 'int'; value: number }> = {};
  if (start !== 0) attributes['start'] = { type: 'int', value: start };
  if (end !== x.rank) attributes['end'] = { type: 'int', value: end };
  return addNode(x.graph, { opType: 'Shape', inputs: [x], outputs: [{ dtype: 'int64', shape: [length] }], attributes })[0] as Tensor;
}

function resolveTargetShape(opName: string, graph: Graph, target: readonly Dim[]): Tensor {
  const tensor = shapeTensorFromDims(graph, target);
  if (tensor === undefined) {
    throw new MasaError(
      'GRAPH_INVALID',
      `${opName}: cannot compute target shape ${formatShape(target)} at run time: every symbol must appear in a graph input's shape`,
    );
  }
  return tensor;
}

/** Options of {@link reshape} with a tensor target. */
export interface ReshapeOptions {
  /** The static shape to record for the result when the target is a run-time tensor. */
  shape?: Shape;
}

/**
 * Reshapes x. `target` lists the new dims: numbers, symbol names (read from
 * the graph inputs at run time, or copied when x has the same dim at the same
 * axis) and at most one -1 (inferred). A run-time int64 tensor also works.
 */
export function reshape(x: Tensor, target: readonly Dim[] | Tensor, options: ReshapeOptions = {}): Tensor {
  const graph = x.graph;
  if (isTensor(target)) {
    requireDType('Reshape', target, ['int64'], 'shape');
    const rank = target.shape[0];
    if (target.rank !== 1 || typeof rank !== 'number') {
      throw new MasaError('GRAPH_INVALID', `Reshape: a shape tensor must be 1-D with a static length, got ${formatShape(target.shape)}`);
    }
    const outShape = options.shape ?? Array.from({ length: rank }, () => anonymousDim(graph));
    if (outShape.length !== rank) {
      throw new MasaError('GRAPH_INVALID', `Reshape: options.shape ${formatShape(outShape)} has rank ${outShape.length}, the shape tensor has ${rank}`);
    }
    return addNode(graph, { opType: 'Reshape', inputs: [x, target], outputs: [{ dtype: x.dtype, shape: outShape }] })[0] as Tensor;
  }
  const inferred = target.filter((dim) => dim === -1).length;
  if (inferred > 1) throw new MasaError('GRAPH_INVALID', `Reshape: at most one -1 in the target ${formatShape(target)}`);
  for (const dim of target) {
    if (typeof dim === 'number' && (!Number.isInteger(dim) || dim < -1 || dim === 0)) {
      throw new MasaError('GRAPH_INVALID', `Reshape: bad target dim ${dim} in ${formatShape(target)} (use a positive size, a symbol name or -1)`);
    }
  }
  const inputSize = shapeSize(x.shape);
  const known = shapeSize(target.filter((dim) => dim !== -1));
  const anonymousInvolved = x.shape.some(isAnonymousDim) || target.some((dim) => typeof dim === 'string' && isAnonymousDim(dim));
  let outShape: Dim[];
  if (inferred === 1) {
    const rest = divideDims(inputSize, known);
    if (rest === undefined && typeof inputSize === 'number' && typeof known === 'number') {
      throw new MasaError('GRAPH_INVALID', `Reshape: cannot reshape ${formatShape(x.shape)} (${inputSize} elements) to ${formatShape(target)}`);
    }
    outShape = target.map((dim) => (dim === -1 ? (rest ?? anonymousDim(graph)) : canonicalDim(dim)));
  } else {
    if (!anonymousInvolved && !dimsEqual(inputSize, known)) {
      throw new MasaError(
        'GRAPH_INVALID',
        `Reshape: cannot reshape ${formatShape(x.shape)} (${String(inputSize)} elements) to ${formatShape(target)} (${String(known)} elements)`,
      );
    }
    outShape = target.map(canonicalDim);
  }
  if (x.shape.length === outShape.length && x.shape.every((dim, axis) => dimsEqual(dim, outShape[axis] as Dim))) {
    return x;
  }
  // Emit 0 ("copy this dim") where x has the same symbol at the same axis, else resolve symbols at run time.
  const literal: Dim[] = target.map((dim, axis) => {
    if (typeof dim === 'number') return dim;
    if (axis < x.rank && dimsEqual(x.shape[axis] as Dim, dim)) return 0;
    return dim;
  });
  const shapeTensor = literal.every((dim) => typeof dim === 'number')
    ? int64Constant(graph, literal as number[])
    : resolveTargetShape('Reshape', graph, literal);
  return addNode(graph, { opType: 'Reshape', inputs: [x, shapeTensor], outputs: [{ dtype: x.dtype, shape: outShape }] })[0] as Tensor;
}

/** Gives x a different static shape of the same rank, e.g. to tell the builder that two symbols are equal. */
export function withShape(x: Tensor, newShape: Shape): Tensor {
  if (newShape.length !== x.rank) {
    throw new MasaError('GRAPH_INVALID', `withShape: rank differs: ${formatShape(x.shape)} vs ${formatShape(newShape)}`);
  }
  x.shape.forEach((dim, axis) => {
    const next = newShape[axis] as Dim;
    if (typeof dim === 'number' && typeof next === 'number' && dim !== next) {
      throw new MasaError('GRAPH_INVALID', `withShape: dim ${axis} is ${dim}, not ${next}: ${formatShape(x.shape)} vs ${formatShape(newShape)}`);
    }
  });
  return addNode(x.graph, { opType: 'Identity', inputs: [x], outputs: [{ dtype: x.dtype, shape: newShape }] })[0] as Tensor;
}

/** Permutes the axes (reverses them when `perm` is left out). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const order = perm ?? Array.from({ length: x.rank }, (_, axis) => x.rank - 1 - axis);
  const sorted = [...order].sort((a, b) => a - b);
  if (order.length !== x.rank || sorted.some((axis, i) => axis !== i)) {
    throw new MasaError('GRAPH_INVALID', `Transpose: perm [${order.join(', ')}] is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`);
  }
  if (order.every((axis, i) => axis === i)) return x;
  return addNode(x.graph, {
    opType: 'Transpose',
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: order.map((axis) => x.shape[axis] as Dim) }],
    attributes: { perm: { type: 'ints', value: order } },
  })[0] as Tensor;
}

/** Options of {@link slice}. */
export interface SliceOptions {
  /** Start index per axis (negative counts from the end), or a run-time int64 tensor. */
  starts: readonly number[] | Tensor;
  /** End index per axis (exclusive; clamped), or a run-time int64 tensor. */
  ends: readonly number[] | Tensor;
  /** Axes the starts/ends refer to. @default [0, 1, …] */
  axes?: readonly number[];
  /** Steps per axis. @default all 1 */
  steps?: readonly number[];
}

/** Length of a static slice (ONNX clamping rules). */
export function sliceLength(dim: number, start: number, end: number, step: number): number {
  if (step > 0) {
    const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim);
    const e = Math.min(Math.max(end < 0 ? end + dim : end, 0), dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim - 1);
  const e = Math.min(Math.max(end < 0 ? end + dim : end, -1), dim - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

/** A numpy-style slice along some axes. */
export function slice(x: Tensor, options: SliceOptions): Tensor {
  const graph = x.graph;
  const count = isTensor(options.starts) ? (options.starts.shape[0] as number) : options.starts.length;
  const axes = (options.axes ?? Array.from({ length: count }, (_, axis) => axis)).map((axis) => normalizeAxis('Slice', axis, x.rank));
  const steps = options.steps ?? axes.map(() => 1);
  if (axes.length !== count || steps.length !== count || (!isTensor(options.ends) && options.ends.length !== count)) {
    throw new MasaError('GRAPH_INVALID', `Slice: starts, ends, axes and steps must have the same length (${count}) for ${formatShape(x.shape)}`);
  }
  if (steps.some((step) => step === 0 || !Number.isInteger(step))) throw new MasaError('GRAPH_INVALID', 'Slice: steps must be non-zero integers');
  const outShape: Dim[] = [...x.shape];
  axes.forEach((axis, i) => {
    const dim = x.shape[axis] as Dim;
    if (isTensor(options.starts) || isTensor(options.ends)) {
      outShape[axis] = anonymousDim(graph);
      return;
    }
    const start = options.starts[i] as number;
    const end = options.ends[i] as number;
    const step = steps[i] as number;
    if (typeof dim === 'number') outShape[axis] = sliceLength(dim, start, end, step);
    else if (start === 0 && step === 1 && end >= 2 ** 31 - 1) outShape[axis] = dim;
    else outShape[axis] = anonymousDim(graph);
  });
  const asTensor = (values: readonly number[] | Tensor, role: string): Tensor => {
    if (isTensor(values)) {
      requireDType('Slice', values, ['int64'], role);
      return values;
    }
    return int64Constant(graph, values);
  };
  return addNode(graph, {
    opType: 'Slice',
    inputs: [x, asTensor(options.starts, 'starts'), asTensor(options.ends, 'ends'), int64Constant(graph, axes), int64Constant(graph, steps)],
    outputs: [{ dtype: x.dtype, shape: outShape }],
  })[0] as Tensor;
}

/** Options of {@link pad}. */
export interface PadOptions {
  /** `[begin_0, …, begin_n, end_0, …, end_n]` for the listed axes, or a run-time int64 tensor. */
  pads: readonly number[] | Tensor;
  /** Axes the pads refer to. @default all axes */
  axes?: readonly number[];
  /** Fill value for `constant` mode. @default 0 */
  value?: number;
}

/** Pads with a constant (ONNX `Pad`, constant mode). */
export function pad(x: Tensor, options: PadOptions): Tensor {
  const graph = x.graph;
  const axes = (options.axes ?? Array.from({ length: x.rank }, (_, axis) => axis)).map((axis) => normalizeAxis('Pad', axis, x.rank));
  const outShape: Dim[] = [...x.shape];
  let padsTensor: Tensor;
  if (isTensor(options.pads)) {
    requireDType('Pad', options.pads, ['int64'], 'pads');
    padsTensor = options.pads;
    for (const axis of axes) outShape[axis] = anonymousDim(graph);
  } else {
    const pads = options.pads;
    if (pads.length !== 2 * axes.length) {
      throw new MasaError('GRAPH_INVALID', `Pad: ${pads.length} pads for ${axes.length} axes (need begin and end per axis)`);
    }
    axes.forEach((axis, i) => {
      outShape[axis] = addDims(addDims(x.shape[axis] as Dim, pads[i] as number), pads[i + axes.length] as number);
    });
    padsTensor = int64Constant(graph, pads);
  }
  const value = graph.constant(options.value ?? 0, { dtype: x.dtype });
  return addNode(graph, {
    opType: 'Pad',
    inputs: [x, padsTensor, value, int64Constant(graph, axes)],
    outputs: [{ dtype: x.dtype, shape: outShape }],
  })[0] as Tensor;
}

function mergeDims(opName: string, a: Dim, b: Dim, shapes: readonly Shape[], axis: number): Dim {
  if (dimsEqual(a, b)) return a;
  if (isAnonymousDim(a)) return b;
  if (isAnonymousDim(b)) return a;
  throw new MasaError(
    'GRAPH_INVALID',
    `${opName}: dim ${axis} differs: ${shapes.map(formatShape).join(' vs ')}`,
    { details: { op: opName, shapes: shapes.map((s) => [...s]) } },
  );
}

/** Joins tensors along `axis`; the other dims must agree. */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  const { graph, dtype } = resolveOperands('Concat', tensors);
  const first = tensors[0] as Tensor;
  for (const tensor of tensors) {
    if (tensor.rank !== first.rank) {
      throw new MasaError('GRAPH_INVALID', `Concat: ranks differ: ${tensors.map((t) => formatShape(t.shape)).join(' vs ')}`);
    }
  }
  const along = normalizeAxis('Concat', axis, first.rank);
  if (tensors.length === 1) return first;
  const outShape: Dim[] = [...first.shape];
  for (const tensor of tensors.slice(1)) {
    tensor.shape.forEach((dim, i) => {
      outShape[i] = i === along ? addDims(outShape[i] as Dim, dim) : mergeDims('Concat', outShape[i] as Dim, dim, [first.shape, tensor.shape], i);
    });
  }
  return addNode(graph, {
    opType: 'Concat',
    inputs: tensors,
    outputs: [{ dtype, shape: outShape }],
    attributes: { axis: { type: 'int', value: along } },
  })[0] as Tensor;
}

/** Options of {@link split}: explicit `sizes` or `numOutputs` equal parts. */
export interface SplitOptions {
  /** @default 0 */
  axis?: number;
  /** Size of each part along the axis. */
  sizes?: readonly number[];
  /** Number of equal parts (the last may be smaller), when `sizes` is left out. */
  numOutputs?: number;
}

/** Splits x along an axis into parts. */
export function split(x: Tensor, options: SplitOptions): Tensor[] {
  const axis = normalizeAxis('Split', options.axis ?? 0, x.rank);
  const dim = x.shape[axis] as Dim;
  const graph = x.graph;
  if (options.sizes !== undefined) {
    const sizes = options.sizes;
    if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 0)) {
      throw new MasaError('GRAPH_INVALID', `Split: sizes must be non-negative integers, got [${sizes.join(', ')}]`);
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    if (typeof dim === 'number' && total !== dim) {
      throw new MasaError('GRAPH_INVALID', `Split: sizes [${sizes.join(', ')}] add up to ${total}, but axis ${axis} of ${formatShape(x.shape)} is ${dim}`);
    }
    return addNode(graph, {
      opType: 'Split',
      inputs: [x, int64Constant(graph, sizes)],
      outputs: sizes.map((size) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? size : d)) })),
      attributes: { axis: { type: 'int', value: axis } },
    });
  }
  const parts = options.numOutputs;
  if (parts === undefined || !Number.isInteger(parts) || parts < 1) {
    throw new MasaError('GRAPH_INVALID', 'Split: give sizes or a positive integer numOutputs');
  }
  let partDims: Dim[];
  if (typeof dim === 'number') {
    const chunk = Math.ceil(dim / parts);
    partDims = Array.from({ length: parts }, (_, i) => (i < parts - 1 ? chunk : dim - chunk * (parts - 1)));
    if ((partDims[parts - 1] as number) < 0) throw new MasaError('GRAPH_INVALID', `Split: cannot split ${dim} into ${parts} parts`);
  } else {
    const even = divideDims(dim, parts);
    partDims = Array.from({ length: parts }, () => even ?? anonymousDim(graph));
  }
  return addNode(graph, {
    opType: 'Split',
    inputs: [x],
    outputs: partDims.map((size) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? size : d)) })),
    attributes: { axis: { type: 'int', value: axis }, num_outputs: { type: 'int', value: parts } },
  });
}

/** Removes size-1 axes. */
export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const normalised = axes.map((axis) => normalizeAxis('Squeeze', axis, x.rank));
  for (const axis of normalised) {
    const dim = x.shape[axis] as Dim;
    if (typeof dim === 'number' && dim !== 1) {
      throw new MasaError('GRAPH_INVALID', `Squeeze: axis ${axis} of ${formatShape(x.shape)} has size ${dim}, not 1`);
    }
  }
  if (normalised.length === 0) return x;
  return addNode(x.graph, {
    opType: 'Squeeze',
    inputs: [x, int64Constant(x.graph, normalised)],
    outputs: [{ dtype: x.dtype, shape: x.shape.filter((_, axis) => !normalised.includes(axis)) }],
  })[0] as Tensor;
}

/** Inserts size-1 axes (axes index the output). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const outRank = x.rank + axes.length;
  const normalised = axes.map((axis) => normalizeAxis('Unsqueeze', axis, outRank));
  if (new Set(normalised).size !== normalised.length) throw new MasaError('GRAPH_INVALID', `Unsqueeze: repeated axis in [${axes.join(', ')}]`);
  if (normalised.length === 0) return x;
  const outShape: Dim[] = [];
  let next = 0;
  for (let axis = 0; axis < outRank; axis++) outShape.push(normalised.includes(axis) ? 1 : (x.shape[next++] as Dim));
  return addNode(x.graph, {
    opType: 'Unsqueeze',
    inputs: [x, int64Constant(x.graph, normalised)],
    outputs: [{ dtype: x.dtype, shape: outShape }],
  })[0] as Tensor;
}

/** Broadcasts x to `target` (numpy rules both ways: a 1 in the target keeps x's dim). */
export function expand(x: Tensor, target: readonly Dim[] | Tensor, options: ReshapeOptions = {}): Tensor {
  const graph = x.graph;
  if (isTensor(target)) {
    requireDType('Expand', target, ['int64'], 'shape');
    const rank = target.shape[0];
    if (typeof rank !== 'number') throw new MasaError('GRAPH_INVALID', 'Expand: the shape tensor needs a static length');
    const outShape = options.shape ?? broadcastShapes('Expand', [x.shape, Array.from({ length: rank }, () => anonymousDim(graph))]);
    return addNode(graph, { opType: 'Expand', inputs: [x, target], outputs: [{ dtype: x.dtype, shape: outShape }] })[0] as Tensor;
  }
  const outShape = broadcastShapes('Expand', [x.shape, target]);
  if (outShape.length === x.rank && outShape.every((dim, axis) => dimsEqual(dim, x.shape[axis] as Dim))) return x;
  return addNode(graph, {
    opType: 'Expand',
    inputs: [x, resolveTargetShape('Expand', graph, target)],
    outputs: [{ dtype: x.dtype, shape: outShape }],
  })[0] as Tensor;
}

/** Options of the gather/scatter ops that take an axis. */
export interface AxisOptions {
  /** @default 0 */
  axis?: number;
}

/** Picks slices of `data` along `axis` at `indices` (embedding lookup with axis 0). */
export function gather(data: Tensor, indices: Tensor, options: AxisOptions = {}): Tensor {
  resolveOperands('Gather', [data]);
  if (indices.graph !== data.graph) throw new MasaError('GRAPH_INVALID', 'Gather: data and indices come from different graphs');
  requireDType('Gather', indices, ['int64', 'int32'], 'indices');
  const axis = normalizeAxis('Gather', options.axis ?? 0, data.rank);
  const outShape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
  return addNode(data.graph, {
    opType: 'Gather',
    inputs: [data, indices],
    outputs: [{ dtype: data.dtype, shape: outShape }],
    attributes: { axis: { type: 'int', value: axis } },
  })[0] as Tensor;
}

/** `out[i][j] = data[indices[i][j]][j]` style gather along `axis` (output has the indices' shape). */
export function gatherElements(data: Tensor, indices: Tensor, options: AxisOptions = {}): Tensor {
  if (indices.graph !== data.graph) throw new MasaError('GRAPH_INVALID', 'GatherElements: data and indices come from different graphs');
  requireDType('GatherElements', indices, ['int64', 'int32'], 'indices');
  if (indices.rank !== data.rank) {
    throw new MasaError('GRAPH_INVALID', `GatherElements: ranks differ: data ${formatShape(data.shape)} vs indices ${formatShape(indices.shape)}`);
  }
  const axis = normalizeAxis('GatherElements', options.axis ?? 0, data.rank);
  return addNode(data.graph, {
    opType: 'GatherElements',
    inputs: [data, indices],
    outputs: [{ dtype: data.dtype, shape: indices.shape }],
    attributes: { axis: { type: 'int', value: axis } },
  })[0] as Tensor;
}

/** How scatter ops combine an update with the existing value. */
export type ScatterReduction = 'none' | 'add' | 'mul' | 'max' | 'min';

/** Options of {@link scatterND}. */
export interface ScatterOptions {
  /** @default 'none' (repeated indices are then undefined behaviour) */
  reduction?: ScatterReduction;
}

/**
 * Writes `updates` into a copy of `data` at the index tuples in `indices` (`[..., k]`).
 *
 * With a `reduction` and repeated indices, prefer {@link scatterElements}: ONNX Runtime's CPU kernel applies the
 * updates on several threads at once when the session has `intraOpNumThreads` > 1 and loses some of those that hit
 * the same place (measured with onnxruntime-node 1.30; onnxruntime#18048). Gather's gradient rule uses
 * ScatterElements for that reason.
 */
export function scatterND(data: Tensor, indices: Tensor, updates: Tensor, options: ScatterOptions = {}): Tensor {
  const { graph, dtype } = resolveOperands('ScatterND', [data, updates]);
  requireDType('ScatterND', indices, ['int64'], 'indices');
  const k = indices.shape[indices.rank - 1];
  if (indices.rank < 1 || typeof k !== 'number' || k > data.rank) {
    throw new MasaError('GRAPH_INVALID', `ScatterND: indices ${formatShape(indices.shape)} need a static last dim <= rank of data ${formatShape(data.shape)}`);
  }
  const expected = [...indices.shape.slice(0, -1), ...data.shape.slice(k)];
  if (expected.length !== updates.rank) {
    throw new MasaError('GRAPH_INVALID', `ScatterND: updates ${formatShape(updates.shape)} should be ${formatShape(expected)}`);
  }
  expected.forEach((dim, axis) => mergeDims('ScatterND', dim, updates.shape[axis] as Dim, [expected, updates.shape], axis));
  return addNode(graph, {
    opType: 'ScatterND',
    inputs: [data, indices, updates],
    outputs: [{ dtype, shape: data.shape }],
    attributes: { reduction: { type: 'string', value: options.reduction ?? 'none' } },
  })[0] as Tensor;
}

/** Options of {@link scatterElements}. */
export interface ScatterElementsOptions extends ScatterOptions, AxisOptions {}

/** The inverse of {@link gatherElements}: writes `updates` into a copy of `data` along `axis`. */
export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, options: ScatterElementsOptions = {}): Tensor {
  const { graph, dtype } = resolveOperands('ScatterElements', [data, updates]);
  requireDType('ScatterElements', indices, ['int64', 'int32'], 'indices');
  if (indices.rank !== data.rank || updates.rank !== data.rank) {
    throw new MasaError(
      'GRAPH_INVALID',
      `ScatterElements: ranks differ: data ${formatShape(data.shape)}, indices ${formatShape(indices.shape)}, updates ${formatShape(updates.shape)}`,
    );
  }
  const axis = normalizeAxis('ScatterElements', options.axis ?? 0, data.rank);
  return addNode(graph, {
    opType: 'ScatterElements',
    inputs: [data, indices, updates],
    outputs: [{ dtype, shape: data.shape }],
    attributes: { axis: { type: 'int', value: axis }, reduction: { type: 'string', value: options.reduction ?? 'none' } },
  })[0] as Tensor;
}

/** Options of {@link full}. */
export interface FullOptions {
  /** @default 'float32' */
  dtype?: DType;
  /** Static shape to record when `dims` is a run-time tensor. */
  shape?: Shape;
}

/** A tensor of `dims` filled with `value` (`ConstantOfShape`; symbols resolved at run time). */
export function full(graph: Graph, dims: readonly Dim[] | Tensor, value: number, options: FullOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  const fill: TensorValue = createTensorValue(dtype, [1], [dtype === 'int64' ? BigInt(value) : value] as readonly number[] | readonly bigint[]);
  let shapeTensor: Tensor;
  let outShape: Dim[];
  if (isTensor(dims)) {
    requireDType('ConstantOfShape', dims, ['int64'], 'shape');
    shapeTensor = dims;
    outShape = options.shape ? [...options.shape] : Array.from({ length: Number(dims.shape[0]) }, () => anonymousDim(graph));
  } else {
    shapeTensor = resolveTargetShape('ConstantOfShape', graph, dims);
    outShape = dims.map(canonicalDim);
  }
  return addNode(graph, {
    opType: 'ConstantOfShape',
    inputs: [shapeTensor],
    outputs: [{ dtype, shape: outShape }],
    attributes: { value: { type: 'tensor', value: fill } },
  })[0] as Tensor;
}

/** Options of {@link trilu}. */
export interface TriluOptions {
  /** Keep the upper triangle (else the lower). @default true */
  upper?: boolean;
  /** Diagonal offset. @default 0 */
  k?: number;
}

/** Zeroes the lower (or upper) triangle of the last two dims. */
export function trilu(x: Tensor, options: TriluOptions = {}): Tensor {
  if (x.rank < 2) throw new MasaError('GRAPH_INVALID', `Trilu: input must have rank >= 2, got ${formatShape(x.shape)}`);
  const k = x.graph.constant(BigInt(options.k ?? 0));
  return addNode(x.graph, {
    opType: 'Trilu',
    inputs: [x, k],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    attributes: { upper: { type: 'int', value: (options.upper ?? true) ? 1 : 0 } },
  })[0] as Tensor;
}

/** `[start, start + delta, …)` up to `limit` (scalars; numbers become constants of `dtype`). */
export function range(graph: Graph, start: Operand, limit: Operand, delta: Operand = 1, dtype: DType = 'int64'): Tensor {
  const scalar = (value: Operand): Tensor => {
    if (isTensor(value)) return value;
    return graph.constant(dtype === 'int64' ? BigInt(value) : value, { dtype });
  };
  const [s, l, d] = [scalar(start), scalar(limit), scalar(delta)];
  for (const tensor of [s, l, d]) {
    if (tensor.rank !== 0 || tensor.dtype !== dtype) {
      throw new MasaError('GRAPH_INVALID', `Range: start, limit and delta must be ${dtype} scalars, got ${tensor.dtype} ${formatShape(tensor.shape)}`);
    }
  }
  const values = [s, l, d].map((tensor) => constantValueOf(tensor));
  let length: Dim = anonymousDim(graph);
  if (values.every((value) => value !== undefined)) {
    const [vs, vl, vd] = values.map((value) => Number((value as TensorValue).data[0]));
    length = Math.max(0, Math.ceil(((vl as number) - (vs as number)) / (vd as number)));
  }
  return addNode(graph, { opType: 'Range', inputs: [s, l, d], outputs: [{ dtype, shape: [length] }] })[0] as Tensor;
}

/** Zeros with the dtype and (symbolic) shape of x. */
export function zerosLike(x: Tensor): Tensor {
  const dims = shapeTensorFromDims(x.graph, x.shape) ?? shape(x);
  return full(x.graph, dims, 0, { dtype: x.dtype, shape: x.shape });
}
