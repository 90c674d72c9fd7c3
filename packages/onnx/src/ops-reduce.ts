/**
 * Reductions (axes given as an input, as opset 18 requires) and the softmax
 * family.
 */
import { MasaError } from '@masa-rl/core';
import { addNode, type Tensor } from './graph.js';
import { requireFloat } from './operands.js';
import { normalizeAxis, type Dim } from './shape.js';
import { createTensorValue } from './tensor-value.js';

/** Options of the `reduce*` ops. */
export interface ReduceOptions {
  /** Axes to reduce (negative counts from the end); all axes when left out. */
  axes?: readonly number[];
  /**
   * Keep reduced axes as size-1 dims (the ONNX default).
   * @default true
   */
  keepdims?: boolean;
}

/** Normalised, sorted, unique reduction axes (all axes when `axes` is undefined). */
export function reductionAxes(opName: string, rank: number, axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, axis) => axis);
  const normalised = axes.map((axis) => normalizeAxis(opName, axis, rank));
  if (new Set(normalised).size !== normalised.length) {
    throw new MasaError('GRAPH_INVALID', `${opName}: repeated axis in [${axes.join(', ')}]`);
  }
  return normalised.sort((a, b) => a - b);
}

function reduce(opType: string, x: Tensor, options: ReduceOptions, float: boolean): Tensor {
  if (float) requireFloat(opType, x);
  const axes = reductionAxes(opType, x.rank, options.axes);
  const keepdims = options.keepdims ?? true;
  const shape: Dim[] = [];
  x.shape.forEach((dim, axis) => {
    if (!axes.includes(axis)) shape.push(dim);
    else if (keepdims) shape.push(1);
  });
  const axesTensor = x.graph.constant(createTensorValue('int64', [axes.length], axes));
  return addNode(x.graph, {
    opType,
    inputs: [x, axesTensor],
    outputs: [{ dtype: x.dtype, shape }],
    attributes: { keepdims: { type: 'int', value: keepdims ? 1 : 0 } },
  })[0] as Tensor;
}

/** Sum over `axes`. */
export function reduceSum(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduce('ReduceSum', x, options, false);
}
/** Mean over `axes`. */
export function reduceMean(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduce('ReduceMean', x, options, true);
}
/** Maximum over `axes`. */
export function reduceMax(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduce('ReduceMax', x, options, false);
}
/** Minimum over `axes`. */
export function reduceMin(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduce('ReduceMin', x, options, false);
}

/** Options of {@link softmax} and {@link logSoftmax}. */
export interface SoftmaxOptions {
  /**
   * The axis that sums to one.
   * @default -1
   */
  axis?: number;
}

function softmaxLike(opType: string, x: Tensor, options: SoftmaxOptions): Tensor {
  requireFloat(opType, x);
  const axis = normalizeAxis(opType, options.axis ?? -1, x.rank);
  return addNode(x.graph, {
    opType,
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    attributes: { axis: { type: 'int', value: axis } },
  })[0] as Tensor;
}

/** Softmax along one axis. */
export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  return softmaxLike('Softmax', x, options);
}
/** Log-softmax along one axis. */
export function logSoftmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  return softmaxLike('LogSoftmax', x, options);
}
