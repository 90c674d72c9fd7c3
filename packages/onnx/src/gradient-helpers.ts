/**
 * Building blocks shared by the gradient rules: summing a broadcast gradient
 * back to an input's shape, reshaping to another tensor's shape, element
 * counts and reading constant inputs.
 */
import { MasaError } from '@masa-rl/core';
import { addNode, constantValueOf, type Graph, type Tensor } from './graph.js';
import { and, cast, equal, not } from './ops-elementwise.js';
import { reduceSum } from './ops-reduce.js';
import { concat, expand, reshape, scatterElements, squeeze, zerosLike } from './ops-shape.js';
import { dimTensor, shapeOf } from './runtime-shape.js';
import { broadcastReduction, dimsEqual, isAnonymousDim, shapeSize, type Dim } from './shape.js';
import { createTensorValue } from './tensor-value.js';

/** True when the two tensors certainly have the same shape. */
export function sameShape(a: Tensor, b: Tensor): boolean {
  return a.rank === b.rank && a.shape.every((dim, axis) => dimsEqual(dim, b.shape[axis] as Dim));
}

/** Reshapes `tensor` to the shape of `like` (symbols resolved at run time when needed). */
export function reshapeLike(tensor: Tensor, like: Tensor): Tensor {
  if (sameShape(tensor, like)) return tensor;
  if (like.shape.some(isAnonymousDim)) return reshape(tensor, shapeOf(like), { shape: like.shape });
  if (like.rank === 0) return reshape(tensor, shapeOf(like), { shape: [] });
  try {
    return reshape(tensor, like.shape);
  } catch (error: unknown) {
    if (MasaError.hasCode(error, 'GRAPH_INVALID')) return reshape(tensor, shapeOf(like), { shape: like.shape });
    throw error;
  }
}

/** Broadcasts `tensor` to the shape of `like`. */
export function expandLike(tensor: Tensor, like: Tensor): Tensor {
  if (sameShape(tensor, like)) return tensor;
  if (like.shape.some(isAnonymousDim)) return expand(tensor, shapeOf(like), { shape: like.shape });
  return expand(tensor, like.shape);
}

/**
 * Sums a gradient that was broadcast from `target`'s shape back to that shape.
 * Decided at build time where the shapes say which axes broadcast; otherwise at
 * run time (`Shape`, `Equal`, `NonZero`, `ReduceSum` with run-time axes).
 */
export function sumToShape(gradient: Tensor, target: Tensor): Tensor {
  if (sameShape(gradient, target)) return gradient;
  const { axes, decidable } = broadcastReduction(target.shape, gradient.shape);
  if (decidable) {
    let reduced = axes.length > 0 ? reduceSum(gradient, { axes, keepdims: true }) : gradient;
    const lead = gradient.rank - target.rank;
    if (lead > 0) reduced = squeeze(reduced, Array.from({ length: lead }, (_, axis) => axis));
    return sameShape(reduced, target) ? reduced : reshapeLike(reduced, target);
  }
  const graph = gradient.graph;
  const lead = gradient.rank - target.rank;
  let targetShape = shapeOf(target);
  if (lead > 0) targetShape = concat([graph.constant(createTensorValue('int64', [lead], new Array<number>(lead).fill(1))), targetShape], 0);
  const gradientShape = shapeOf(gradient);
  const one = graph.constant(1n);
  const broadcastAxes = and(equal(targetShape, one), not(equal(gradientShape, one)));
  const [nonZero] = addNode(graph, {
    opType: 'NonZero',
    inputs: [broadcastAxes],
    outputs: [{ dtype: 'int64', shape: [1, '?nonzero'] }],
  });
  const axesTensor = reshape(nonZero as Tensor, [-1]);
  const [summed] = addNode(graph, {
    opType: 'ReduceSum',
    inputs: [gradient, axesTensor],
    outputs: [{ dtype: gradient.dtype, shape: gradient.shape.map((_, axis) => `?sum${axis}`) }],
    attributes: { keepdims: { type: 'int', value: 1 }, noop_with_empty_axes: { type: 'int', value: 1 } },
  });
  return reshape(summed as Tensor, shapeOf(target), { shape: target.shape });
}

/** Number of elements of `tensor` over `axes`, as a scalar of the tensor's dtype. */
export function countOver(tensor: Tensor, axes: readonly number[]): Tensor {
  const dims = axes.map((axis) => tensor.shape[axis] as Dim);
  const size = shapeSize(dims);
  if (typeof size === 'number') return tensor.graph.constant(size, { dtype: tensor.dtype });
  const runtime = dimTensor(tensor.graph, size);
  let count: Tensor;
  if (runtime !== undefined) count = runtime;
  else {
    const full = shapeOf(tensor);
    const picked = addNode(tensor.graph, {
      opType: 'Gather',
      inputs: [full, tensor.graph.constant(createTensorValue('int64', [axes.length], axes))],
      outputs: [{ dtype: 'int64', shape: [axes.length] }],
      attributes: { axis: { type: 'int', value: 0 } },
    })[0] as Tensor;
    count = addNode(tensor.graph, {
      opType: 'ReduceProd',
      inputs: [picked],
      outputs: [{ dtype: 'int64', shape: [1] }],
      attributes: { keepdims: { type: 'int', value: 1 } },
    })[0] as Tensor;
  }
  return reshape(cast(count, tensor.dtype), [], {});
}

/** The integer values of a constant input (axes, pads …); throws naming the op when the input is computed at run time. */
export function constantInts(opName: string, tensor: Tensor | undefined): number[] | undefined {
  if (tensor === undefined) return undefined;
  const value = constantValueOf(tensor);
  if (value === undefined) {
    throw new MasaError('GRADIENT_UNDEFINED', `${opName}: the gradient rule needs this input to be a constant, but it is computed at run time`);
  }
  return Array.from(value.data as ArrayLike<number | bigint>, Number);
}

/** Sums the reduction `axes` of `tensor` (kept as size-1 dims). */
export function sumAxes(tensor: Tensor, axes: readonly number[]): Tensor {
  return axes.length === 0 ? tensor : reduceSum(tensor, { axes, keepdims: true });
}

/**
 * A gradient that is a scatter-add (a ScatterElements along `axis`) of `updates` into zeros, which autodiff may re-aim
 * at another gradient. Never a ScatterND: ONNX Runtime's CPU ScatterND loses additions to repeated indices on more than
 * one thread (gradient-rules-shape.ts).
 */
export interface ScatterGradient {
  readonly indices: Tensor;
  readonly updates: Tensor;
  readonly axis: number;
}

const scatterGradients = new WeakMap<Graph, Map<number, ScatterGradient>>();

/**
 * `scatter-add(zeros like data, indices, updates)`. When the same tensor also
 * receives dense gradients, autodiff scatters into their sum instead of
 * materialising the zeros and adding ({@link scatterGradientOf}).
 */
export function scatterAddIntoZeros(data: Tensor, scatter: ScatterGradient): Tensor {
  const zeros = zerosLike(data);
  const result = scatterElements(zeros, scatter.indices, scatter.updates, { axis: scatter.axis, reduction: 'add' });
  let registry = scatterGradients.get(data.graph);
  if (registry === undefined) {
    registry = new Map();
    scatterGradients.set(data.graph, registry);
  }
  registry.set(result.id, scatter);
  return result;
}

/** The scatter behind a gradient made by {@link scatterAddIntoZeros}, if it is one. */
export function scatterGradientOf(tensor: Tensor): ScatterGradient | undefined {
  return scatterGradients.get(tensor.graph)?.get(tensor.id);
}

/** Re-applies a scatter-add onto `base` (which has the target's shape). */
export function scatterAddInto(base: Tensor, scatter: ScatterGradient): Tensor {
  return scatterElements(base, scatter.indices, scatter.updates, { axis: scatter.axis, reduction: 'add' });
}
