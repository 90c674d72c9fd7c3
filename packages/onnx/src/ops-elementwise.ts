/**
 * Elementwise ops with numpy broadcasting: arithmetic, comparisons, logic,
 * unary math and activations, `where`, `cast`, `clip`.
 */
import { MasaError } from '@masa-rl/core';
import { isDType, ONNX_ELEMENT_TYPE, type DType } from './dtype.js';
import { addNode, type Tensor } from './graph.js';
import { requireDType, requireFloat, resolveOperands, type Operand } from './operands.js';
import { broadcastShapes, formatShape, type Shape } from './shape.js';

function binary(opType: string, a: Operand, b: Operand, float = false): Tensor {
  const { graph, dtype, tensors } = resolveOperands(opType, [a, b]);
  const [left, right] = tensors as [Tensor, Tensor];
  if (float) requireFloat(opType, left);
  if (dtype === 'bool') throw new MasaError('GRAPH_INVALID', `${opType}: bool tensors have no arithmetic (cast first)`);
  const shape = broadcastShapes(opType, [left.shape, right.shape]);
  return addNode(graph, { opType, inputs: [left, right], outputs: [{ dtype, shape }] })[0] as Tensor;
}

/** `a + b` with broadcasting. */
export function add(a: Operand, b: Operand): Tensor {
  return binary('Add', a, b);
}
/** `a - b` with broadcasting. */
export function sub(a: Operand, b: Operand): Tensor {
  return binary('Sub', a, b);
}
/** `a * b` with broadcasting. */
export function mul(a: Operand, b: Operand): Tensor {
  return binary('Mul', a, b);
}
/** `a / b` with broadcasting. */
export function div(a: Operand, b: Operand): Tensor {
  return binary('Div', a, b);
}
/** `a ** b` with broadcasting (float base). */
export function pow(a: Operand, b: Operand): Tensor {
  return binary('Pow', a, b, true);
}
/** Elementwise maximum of two operands. */
export function max(a: Operand, b: Operand): Tensor {
  return binary('Max', a, b);
}
/** Elementwise minimum of two operands. */
export function min(a: Operand, b: Operand): Tensor {
  return binary('Min', a, b);
}

/** Sum of any number of same-dtype tensors (one `Sum` node), with broadcasting. */
export function sum(tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new MasaError('GRAPH_INVALID', 'Sum: needs at least one tensor');
  const { graph, dtype, tensors: checked } = resolveOperands('Sum', tensors);
  if (checked.length === 1) return checked[0] as Tensor;
  const shape = broadcastShapes('Sum', checked.map((tensor) => tensor.shape));
  return addNode(graph, { opType: 'Sum', inputs: checked, outputs: [{ dtype, shape }] })[0] as Tensor;
}

function compare(opType: string, a: Operand, b: Operand): Tensor {
  const { graph, tensors } = resolveOperands(opType, [a, b]);
  const [left, right] = tensors as [Tensor, Tensor];
  const shape = broadcastShapes(opType, [left.shape, right.shape]);
  return addNode(graph, { opType, inputs: [left, right], outputs: [{ dtype: 'bool', shape }] })[0] as Tensor;
}

/** `a == b` → bool. */
export function equal(a: Operand, b: Operand): Tensor {
  return compare('Equal', a, b);
}
/** `a < b` → bool. */
export function less(a: Operand, b: Operand): Tensor {
  return compare('Less', a, b);
}
/** `a <= b` → bool. */
export function lessOrEqual(a: Operand, b: Operand): Tensor {
  return compare('LessOrEqual', a, b);
}
/** `a > b` → bool. */
export function greater(a: Operand, b: Operand): Tensor {
  return compare('Greater', a, b);
}
/** `a >= b` → bool. */
export function greaterOrEqual(a: Operand, b: Operand): Tensor {
  return compare('GreaterOrEqual', a, b);
}

function logical(opType: string, a: Tensor, b: Tensor): Tensor {
  const { graph, tensors } = resolveOperands(opType, [a, b]);
  const [left, right] = tensors as [Tensor, Tensor];
  requireDType(opType, left, ['bool']);
  const shape = broadcastShapes(opType, [left.shape, right.shape]);
  return addNode(graph, { opType, inputs: [left, right], outputs: [{ dtype: 'bool', shape }] })[0] as Tensor;
}

/** Logical and of two bool tensors. */
export function and(a: Tensor, b: Tensor): Tensor {
  return logical('And', a, b);
}
/** Logical or of two bool tensors. */
export function or(a: Tensor, b: Tensor): Tensor {
  return logical('Or', a, b);
}
/** Logical not of a bool tensor. */
export function not(x: Tensor): Tensor {
  requireDType('Not', x, ['bool']);
  return addNode(x.graph, { opType: 'Not', inputs: [x], outputs: [{ dtype: 'bool', shape: x.shape }] })[0] as Tensor;
}

function unary(opType: string, x: Tensor, options: { float?: boolean; signed?: boolean } = {}): Tensor {
  if (options.float ?? true) requireFloat(opType, x);
  if (x.dtype === 'bool') throw new MasaError('GRAPH_INVALID', `${opType}: bool input ${formatShape(x.shape)} (cast first)`);
  return addNode(x.graph, { opType, inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] })[0] as Tensor;
}

/** `-x`. */
export function neg(x: Tensor): Tensor {
  return unary('Neg', x, { float: false });
}
/** `|x|`. */
export function abs(x: Tensor): Tensor {
  return unary('Abs', x, { float: false });
}
/** Sign of x (-1, 0, 1). */
export function sign(x: Tensor): Tensor {
  return unary('Sign', x, { float: false });
}
/** `e^x`. */
export function exp(x: Tensor): Tensor {
  return unary('Exp', x);
}
/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unary('Log', x);
}
/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unary('Sqrt', x);
}
/** `1 / x`. */
export function reciprocal(x: Tensor): Tensor {
  return unary('Reciprocal', x);
}
/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unary('Tanh', x);
}
/** Logistic sigmoid. */
export function sigmoid(x: Tensor): Tensor {
  return unary('Sigmoid', x);
}
/** `log(1 + e^x)` (ONNX Runtime has no float64 kernel). */
export function softplus(x: Tensor): Tensor {
  return unary('Softplus', x);
}
/** Error function (ONNX Runtime has no float64 kernel). */
export function erf(x: Tensor): Tensor {
  return unary('Erf', x);
}
/** `max(x, 0)`. */
export function relu(x: Tensor): Tensor {
  return unary('Relu', x);
}
/** Sine (no gradient rule: used for position tables). */
export function sin(x: Tensor): Tensor {
  return unary('Sin', x);
}
/** Cosine (no gradient rule: used for position tables). */
export function cos(x: Tensor): Tensor {
  return unary('Cos', x);
}
/** Rounds down. */
export function floor(x: Tensor): Tensor {
  return unary('Floor', x);
}
/** A copy of x (a no-op that ONNX Runtime removes). */
export function identity(x: Tensor): Tensor {
  return addNode(x.graph, { opType: 'Identity', inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] })[0] as Tensor;
}
/** x in the forward pass; autodiff sends no gradient through it. */
export function stopGradient(x: Tensor): Tensor {
  return addNode(x.graph, {
    opType: 'Identity',
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    stopGradient: true,
  })[0] as Tensor;
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /**
   * `'none'` for the exact erf form, `'tanh'` for the tanh approximation.
   * @default 'none'
   */
  approximate?: 'none' | 'tanh';
}

/** GELU activation (ONNX `Gelu`, opset 20; ONNX Runtime has float32 kernels only). */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  requireFloat('Gelu', x);
  const approximate = options.approximate ?? 'none';
  return addNode(x.graph, {
    opType: 'Gelu',
    inputs: [x],
    outputs: [{ dtype: x.dtype, shape: x.shape }],
    attributes: { approximate: { type: 'string', value: approximate } },
  })[0] as Tensor;
}

/**
 * `x * sigmoid(x)` (SiLU / swish), composed from primitives so autodiff covers
 * it. In float64 it is written `x / (1 + e^-x)`: ONNX Runtime fuses
 * `x * Sigmoid(x)` into `QuickGelu`, which has no float64 kernel.
 */
export function silu(x: Tensor): Tensor {
  if (x.dtype === 'float64') return div(x, add(exp(neg(x)), 1));
  return mul(x, sigmoid(x));
}

/** Converts to another dtype. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (!isDType(dtype)) throw new MasaError('GRAPH_INVALID', `Cast: unknown dtype ${String(dtype)}`);
  if (dtype === x.dtype) return x;
  return addNode(x.graph, {
    opType: 'Cast',
    inputs: [x],
    outputs: [{ dtype, shape: x.shape }],
    attributes: { to: { type: 'int', value: ONNX_ELEMENT_TYPE[dtype] } },
  })[0] as Tensor;
}

/** Options of {@link clip}. */
export interface ClipOptions {
  /** Lower bound (a number or a scalar tensor); none when left out. */
  min?: Operand;
  /** Upper bound (a number or a scalar tensor); none when left out. */
  max?: Operand;
}

/** Clamps x to [min, max]. */
export function clip(x: Tensor, options: ClipOptions): Tensor {
  const bound = (value: Operand | undefined, role: string): Tensor | undefined => {
    if (value === undefined) return undefined;
    const { tensors } = resolveOperands('Clip', [x, value]);
    const tensor = tensors[1] as Tensor;
    if (tensor.rank !== 0) throw new MasaError('GRAPH_INVALID', `Clip: ${role} must be a scalar, got ${formatShape(tensor.shape)}`);
    return tensor;
  };
  const low = bound(options.min, 'min');
  const high = bound(options.max, 'max');
  return addNode(x.graph, { opType: 'Clip', inputs: [x, low, high], outputs: [{ dtype: x.dtype, shape: x.shape }] })[0] as Tensor;
}

/** `condition ? a : b` elementwise, with broadcasting over all three. */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  requireDType('Where', condition, ['bool'], 'condition');
  const { graph, dtype, tensors } = resolveOperands('Where', [a, b]);
  if (graph !== condition.graph) {
    throw new MasaError('GRAPH_INVALID', 'Where: condition and values come from different graphs');
  }
  const [left, right] = tensors as [Tensor, Tensor];
  const shape: Shape = broadcastShapes('Where', [condition.shape, left.shape, right.shape]);
  return addNode(graph, { opType: 'Where', inputs: [condition, left, right], outputs: [{ dtype, shape }] })[0] as Tensor;
}
