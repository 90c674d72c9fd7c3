/**
 * Gradient rules for elementwise ops. Broadcast inputs get their gradient
 * summed back to their own shape ({@link sumToShape}).
 */
import type { GradientRule } from './gradient-rule.js';
import { stringAttribute } from './gradient-rule.js';
import { constantValueOf, type Tensor } from './graph.js';
import { sumToShape } from './gradient-helpers.js';
import {
  add,
  and,
  cast,
  cos,
  div,
  equal,
  erf,
  exp,
  greater,
  greaterOrEqual,
  less,
  lessOrEqual,
  log,
  mul,
  neg,
  pow,
  sigmoid,
  sign,
  sin,
  sub,
  tanh,
  where,
} from './ops-elementwise.js';
import { reduceSum } from './ops-reduce.js';

type Rule = GradientRule;

const grads = (context: Parameters<Rule>[0]): Tensor => context.outputGradients[0] as Tensor;
const input = (context: Parameters<Rule>[0], position: number): Tensor => context.inputs[position] as Tensor;

/** The scalar value of a constant tensor, if it is one. */
function scalarConstant(tensor: Tensor): number | undefined {
  const value = constantValueOf(tensor);
  if (value === undefined || value.data.length !== 1) return undefined;
  return Number(value.data[0]);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const ELEMENTWISE_RULES: Readonly<Record<string, Rule>> = {
  Add: (c) => [c.needsGradient[0] ? sumToShape(grads(c), input(c, 0)) : undefined, c.needsGradient[1] ? sumToShape(grads(c), input(c, 1)) : undefined],
  Sub: (c) => [
    c.needsGradient[0] ? sumToShape(grads(c), input(c, 0)) : undefined,
    c.needsGradient[1] ? neg(sumToShape(grads(c), input(c, 1))) : undefined,
  ],
  Mul: (c) => [
    c.needsGradient[0] ? sumToShape(mul(grads(c), input(c, 1)), input(c, 0)) : undefined,
    c.needsGradient[1] ? sumToShape(mul(grads(c), input(c, 0)), input(c, 1)) : undefined,
  ],
  Div: (c) => {
    const gy = grads(c);
    const b = input(c, 1);
    // d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b
    return [
      c.needsGradient[0] ? sumToShape(div(gy, b), input(c, 0)) : undefined,
      c.needsGradient[1] ? sumToShape(neg(div(mul(gy, c.outputs[0] as Tensor), b)), b) : undefined,
    ];
  },
  Pow: (c) => {
    const gy = grads(c);
    const [a, b] = [input(c, 0), input(c, 1)];
    let ga: Tensor | undefined;
    if (c.needsGradient[0]) {
      const exponent = scalarConstant(b);
      let local: Tensor;
      if (exponent === 2) local = mul(a, 2);
      else if (exponent === 1) local = gy;
      else if (exponent !== undefined) local = mul(pow(a, exponent - 1), exponent);
      else local = mul(pow(a, sub(b, 1)), b);
      ga = sumToShape(exponent === 1 ? gy : mul(gy, local), a);
    }
    // d(a^b)/db = a^b * ln(a)
    const gb = c.needsGradient[1] ? sumToShape(mul(mul(gy, c.outputs[0] as Tensor), log(a)), b) : undefined;
    return [ga, gb];
  },
  Neg: (c) => [neg(grads(c))],
  Identity: (c) => [grads(c)],
  Exp: (c) => [mul(grads(c), c.outputs[0] as Tensor)],
  Log: (c) => [div(grads(c), input(c, 0))],
  Sqrt: (c) => [div(mul(grads(c), 0.5), c.outputs[0] as Tensor)],
  Reciprocal: (c) => {
    const y = c.outputs[0] as Tensor;
    return [neg(mul(grads(c), mul(y, y)))];
  },
  Tanh: (c) => {
    const y = c.outputs[0] as Tensor;
    return [mul(grads(c), sub(1, mul(y, y)))];
  },
  Sigmoid: (c) => {
    const y = c.outputs[0] as Tensor;
    return [mul(grads(c), mul(y, sub(1, y)))];
  },
  Softplus: (c) => [mul(grads(c), sigmoid(input(c, 0)))],
  Erf: (c) => {
    const x = input(c, 0);
    return [mul(grads(c), mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  Gelu: (c) => {
    const x = input(c, 0);
    const gy = grads(c);
    if (stringAttribute(c.node, 'approximate', 'none') === 'tanh') {
      // y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
      const x2 = mul(x, x);
      const u = mul(mul(x, add(mul(x2, 0.044715), 1)), SQRT_2_OVER_PI);
      const t = tanh(u);
      const du = mul(add(mul(x2, 3 * 0.044715), 1), SQRT_2_OVER_PI);
      const local = mul(add(t, 1), 0.5);
      const second = mul(mul(mul(x, 0.5), sub(1, mul(t, t))), du);
      return [mul(gy, add(local, second))];
    }
    // y = x Φ(x): dy/dx = Φ(x) + x φ(x)
    const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [mul(gy, add(cdf, mul(x, pdf)))];
  },
  Sin: (c) => [mul(grads(c), cos(input(c, 0)))],
  Cos: (c) => [neg(mul(grads(c), sin(input(c, 0))))],
  // Piecewise constant: zero gradient almost everywhere.
  Floor: () => [undefined],
  Ceil: () => [undefined],
  Round: () => [undefined],
  Sign: () => [undefined],
  Relu: (c) => [where(greater(input(c, 0), 0), grads(c), 0)],
  Abs: (c) => [mul(grads(c), sign(input(c, 0)))],
  Cast: (c) => [cast(grads(c), input(c, 0).dtype)],
  Clip: (c) => {
    const gy = grads(c);
    const x = input(c, 0);
    const low = c.inputs[1];
    const high = c.inputs[2];
    let inside: Tensor | undefined;
    if (low !== undefined) inside = greaterOrEqual(x, low);
    if (high !== undefined) inside = inside === undefined ? lessOrEqual(x, high) : and(inside, lessOrEqual(x, high));
    const gx = inside === undefined ? gy : where(inside, gy, 0);
    return [
      gx,
      low !== undefined && c.needsGradient[1] ? reduceSum(where(less(x, low), gy, 0), { keepdims: false }) : undefined,
      high !== undefined && c.needsGradient[2] ? reduceSum(where(greater(x, high), gy, 0), { keepdims: false }) : undefined,
    ];
  },
  Max: (c) => minMax(c, greater),
  Min: (c) => minMax(c, less),
  Where: (c) => {
    const gy = grads(c);
    const condition = input(c, 0);
    return [
      undefined,
      c.needsGradient[1] ? sumToShape(where(condition, gy, 0), input(c, 1)) : undefined,
      c.needsGradient[2] ? sumToShape(where(condition, 0, gy), input(c, 2)) : undefined,
    ];
  },
  Sum: (c) => c.inputs.map((tensor, position) => (c.needsGradient[position] ? sumToShape(grads(c), tensor as Tensor) : undefined)),
};

/** Binary Max/Min: the winner takes the gradient; exact ties split it evenly. */
function minMax(c: Parameters<Rule>[0], wins: (a: Tensor, b: Tensor) => Tensor): (Tensor | undefined)[] {
  if (c.inputs.length !== 2) {
    // Variadic form: treat each input against the output.
    const y = c.outputs[0] as Tensor;
    return c.inputs.map((tensor, position) => {
      if (!c.needsGradient[position]) return undefined;
      const x = tensor as Tensor;
      return sumToShape(where(equal(x, y), grads(c), 0), x);
    });
  }
  const gy = grads(c);
  const [a, b] = [input(c, 0), input(c, 1)];
  const half = mul(gy, 0.5);
  const tie = equal(a, b);
  return [
    c.needsGradient[0] ? sumToShape(where(wins(a, b), gy, where(tie, half, 0)), a) : undefined,
    c.needsGradient[1] ? sumToShape(where(wins(b, a), gy, where(tie, half, 0)), b) : undefined,
  ];
}
