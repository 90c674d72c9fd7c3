/**
 * Gradient rules for reductions, the softmax family and RMSNormalization.
 */
import type { GradientContext, GradientRule } from './gradient-rule.js';
import { floatAttribute, intAttribute } from './gradient-rule.js';
import type { Tensor } from './graph.js';
import { constantInts, countOver, expandLike, sumToShape } from './gradient-helpers.js';
import { add, cast, div, equal, exp, mul, reciprocal, sqrt, sub } from './ops-elementwise.js';
import { reductionAxes, reduceMean, reduceSum } from './ops-reduce.js';
import { unsqueeze } from './ops-shape.js';

/** Axes a Reduce* node reduced, and its output gradient with those axes kept as size 1. */
function reducedAxesAndGradient(c: GradientContext): { axes: number[]; gradient: Tensor } {
  const x = c.inputs[0] as Tensor;
  const given = constantInts(c.node.opType, c.inputs[1]);
  const noop = intAttribute(c.node, 'noop_with_empty_axes', 0) === 1;
  const axes = given === undefined || given.length === 0 ? (noop ? [] : reductionAxes(c.node.opType, x.rank, undefined)) : reductionAxes(c.node.opType, x.rank, given);
  const keepdims = intAttribute(c.node, 'keepdims', 1) === 1;
  const gy = c.outputGradients[0] as Tensor;
  return { axes, gradient: keepdims || axes.length === 0 ? gy : unsqueeze(gy, axes) };
}

function keptOutput(c: GradientContext, axes: readonly number[]): Tensor {
  const y = c.outputs[0] as Tensor;
  const keepdims = intAttribute(c.node, 'keepdims', 1) === 1;
  return keepdims || axes.length === 0 ? y : unsqueeze(y, axes);
}

/** ReduceMax/ReduceMin: the gradient goes to the extreme elements, split evenly among exact ties. */
const extremeRule: GradientRule = (c) => {
  const x = c.inputs[0] as Tensor;
  const { axes, gradient } = reducedAxesAndGradient(c);
  const mask = cast(equal(x, keptOutput(c, axes)), x.dtype);
  const ties = reduceSum(mask, { axes, keepdims: true });
  return [mul(mask, div(gradient, ties)), undefined];
};

export const REDUCE_RULES: Readonly<Record<string, GradientRule>> = {
  ReduceSum: (c) => {
    const x = c.inputs[0] as Tensor;
    const { gradient } = reducedAxesAndGradient(c);
    return [expandLike(gradient, x), undefined];
  },
  ReduceMean: (c) => {
    const x = c.inputs[0] as Tensor;
    const { axes, gradient } = reducedAxesAndGradient(c);
    return [expandLike(div(gradient, countOver(x, axes)), x), undefined];
  },
  ReduceMax: extremeRule,
  ReduceMin: extremeRule,
  Softmax: (c) => {
    const y = c.outputs[0] as Tensor;
    const gy = c.outputGradients[0] as Tensor;
    const axis = intAttribute(c.node, 'axis', -1);
    // dx = y * (gy - sum(gy * y))
    return [mul(y, sub(gy, reduceSum(mul(gy, y), { axes: [axis], keepdims: true })))];
  },
  LogSoftmax: (c) => {
    const y = c.outputs[0] as Tensor;
    const gy = c.outputGradients[0] as Tensor;
    const axis = intAttribute(c.node, 'axis', -1);
    // dx = gy - softmax(x) * sum(gy)
    return [sub(gy, mul(exp(y), reduceSum(gy, { axes: [axis], keepdims: true })))];
  },
  SimplifiedLayerNormalization: (c) => {
    const x = c.inputs[0] as Tensor;
    const scale = c.inputs[1] as Tensor;
    const gy = c.outputGradients[0] as Tensor;
    if (gy === undefined) return [undefined, undefined];
    const axis = intAttribute(c.node, 'axis', -1);
    const first = axis < 0 ? axis + x.rank : axis;
    const axes = Array.from({ length: x.rank - first }, (_, i) => first + i);
    const r = cast(c.outputs[1] as Tensor, x.dtype); // inverse RMS saved by the forward pass, [..., 1]
    const normalised = mul(x, r);
    const gScale = c.needsGradient[1] ? sumToShape(mul(gy, normalised), scale) : undefined;
    let gx: Tensor | undefined;
    if (c.needsGradient[0]) {
      const gNormalised = mul(gy, scale);
      gx = mul(r, sub(gNormalised, mul(normalised, reduceMean(mul(gNormalised, normalised), { axes, keepdims: true }))));
    }
    return [gx, gScale];
  },
  RMSNormalization: (c) => {
    const x = c.inputs[0] as Tensor;
    const scale = c.inputs[1] as Tensor;
    const gy = c.outputGradients[0] as Tensor;
    const axis = intAttribute(c.node, 'axis', -1);
    const first = axis < 0 ? axis + x.rank : axis;
    const axes = Array.from({ length: x.rank - first }, (_, i) => first + i);
    // The op keeps no inverse RMS, so recompute it: r = 1 / sqrt(mean(x²) + eps).
    const epsilon = Math.fround(floatAttribute(c.node, 'epsilon', 1e-5));
    const r = reciprocal(sqrt(add(reduceMean(mul(x, x), { axes, keepdims: true }), epsilon)));
    const normalised = mul(x, r); // x̂
    const gScale = c.needsGradient[1] ? sumToShape(mul(gy, normalised), scale) : undefined;
    let gx: Tensor | undefined;
    if (c.needsGradient[0]) {
      const gNormalised = mul(gy, scale);
      // dx = r (ĝ - x̂ mean(ĝ x̂))
      gx = mul(r, sub(gNormalised, mul(normalised, reduceMean(mul(gNormalised, normalised), { axes, keepdims: true }))));
    }
    return [gx, gScale];
  },
};
