/**
 * Matrix products: `MatMul` (numpy semantics: batched, broadcast, 1-D
 * operands), `Gemm` (2-D with transposes) and the contrib `FusedMatMul`.
 */
import { MasaError } from '@masa-rl/core';
import { addNode, type Tensor } from './graph.js';
import { requireFloat, resolveOperands } from './operands.js';
import { broadcastShapes, dimsEqual, formatShape, isAnonymousDim, type Dim } from './shape.js';

function innerDimsAgree(k1: Dim, k2: Dim): boolean {
  return dimsEqual(k1, k2) || isAnonymousDim(k1) || isAnonymousDim(k2);
}

function innerError(opName: string, a: Tensor, b: Tensor, detail = ''): MasaError {
  return new MasaError(
    'GRAPH_INVALID',
    `${opName}: inner dims differ: a ${formatShape(a.shape)} vs b ${formatShape(b.shape)}${detail}`,
    { details: { op: opName, a: [...a.shape], b: [...b.shape] } },
  );
}

/** Output shape of a numpy matmul of `a` and `b` (with optional transposes of the last two dims). */
function matMulShape(opName: string, a: Tensor, b: Tensor, transA: boolean, transB: boolean): Dim[] {
  if (a.rank === 0 || b.rank === 0) {
    throw new MasaError('GRAPH_INVALID', `${opName}: operands must have rank >= 1, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`);
  }
  const aShape = a.rank === 1 ? [1, a.shape[0] as Dim] : [...a.shape];
  const bShape = b.rank === 1 ? [b.shape[0] as Dim, 1] : [...b.shape];
  const rowsA = aShape.length - 2;
  const [m, k1] = transA ? [aShape[rowsA + 1] as Dim, aShape[rowsA] as Dim] : [aShape[rowsA] as Dim, aShape[rowsA + 1] as Dim];
  const rowsB = bShape.length - 2;
  const [k2, n] = transB ? [bShape[rowsB + 1] as Dim, bShape[rowsB] as Dim] : [bShape[rowsB] as Dim, bShape[rowsB + 1] as Dim];
  if (!innerDimsAgree(k1, k2)) throw innerError(opName, a, b, transA || transB ? ` (transA=${Number(transA)}, transB=${Number(transB)})` : '');
  const batch = broadcastShapes(opName, [aShape.slice(0, -2), bShape.slice(0, -2)]);
  const shape: Dim[] = [...batch];
  if (a.rank !== 1) shape.push(m);
  if (b.rank !== 1) shape.push(n);
  return shape;
}

/** Matrix product with numpy semantics: `[..., M, K] @ [..., K, N] → [..., M, N]`. */
export function matMul(a: Tensor, b: Tensor): Tensor {
  const { graph, dtype } = resolveOperands('MatMul', [a, b]);
  requireFloat('MatMul', a);
  const shape = matMulShape('MatMul', a, b, false, false);
  return addNode(graph, { opType: 'MatMul', inputs: [a, b], outputs: [{ dtype, shape }] })[0] as Tensor;
}

/** Options of {@link fusedMatMul}. */
export interface FusedMatMulOptions {
  /** @default false */
  transA?: boolean;
  /** @default false */
  transB?: boolean;
  /** @default 1 */
  alpha?: number;
}

/**
 * `alpha * op(a) @ op(b)` with op = transpose of the last two dims when asked
 * (com.microsoft `FusedMatMul`: saves a `Transpose`; rank >= 2 operands).
 */
export function fusedMatMul(a: Tensor, b: Tensor, options: FusedMatMulOptions = {}): Tensor {
  const { graph, dtype } = resolveOperands('FusedMatMul', [a, b]);
  requireFloat('FusedMatMul', a);
  if (a.rank < 2 || b.rank < 2) {
    throw new MasaError('GRAPH_INVALID', `FusedMatMul: operands must have rank >= 2, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`);
  }
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const shape = matMulShape('FusedMatMul', a, b, transA, transB);
  return addNode(graph, {
    opType: 'FusedMatMul',
    domain: 'com.microsoft',
    inputs: [a, b],
    outputs: [{ dtype, shape }],
    attributes: {
      alpha: { type: 'float', value: options.alpha ?? 1 },
      transA: { type: 'int', value: transA ? 1 : 0 },
      transB: { type: 'int', value: transB ? 1 : 0 },
    },
  })[0] as Tensor;
}

/** Options of {@link gemm}. */
export interface GemmOptions {
  /** @default 1 */
  alpha?: number;
  /** @default 1 */
  beta?: number;
  /** @default false */
  transA?: boolean;
  /** @default false */
  transB?: boolean;
}

/** `alpha * op(a) @ op(b) + beta * c` for 2-D `a`, `b`; `c` broadcasts to `[M, N]`. */
export function gemm(a: Tensor, b: Tensor, c?: Tensor, options: GemmOptions = {}): Tensor {
  const { graph, dtype } = resolveOperands('Gemm', c === undefined ? [a, b] : [a, b, c]);
  requireFloat('Gemm', a);
  if (a.rank !== 2 || b.rank !== 2) {
    throw new MasaError('GRAPH_INVALID', `Gemm: a and b must be 2-D, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`);
  }
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const shape = matMulShape('Gemm', a, b, transA, transB);
  if (c !== undefined) {
    if (c.rank > 2) throw new MasaError('GRAPH_INVALID', `Gemm: c must have rank <= 2, got ${formatShape(c.shape)}`);
    const broadcast = broadcastShapes('Gemm', [shape, c.shape]);
    if (!broadcast.every((dim, axis) => dimsEqual(dim, shape[axis] as Dim) || isAnonymousDim(shape[axis] as Dim))) {
      throw new MasaError('GRAPH_INVALID', `Gemm: c ${formatShape(c.shape)} does not broadcast to the product ${formatShape(shape)}`);
    }
  }
  return addNode(graph, {
    opType: 'Gemm',
    inputs: c === undefined ? [a, b] : [a, b, c],
    outputs: [{ dtype, shape }],
    attributes: {
      alpha: { type: 'float', value: options.alpha ?? 1 },
      beta: { type: 'float', value: options.beta ?? 1 },
      transA: { type: 'int', value: transA ? 1 : 0 },
      transB: { type: 'int', value: transB ? 1 : 0 },
    },
  })[0] as Tensor;
}
