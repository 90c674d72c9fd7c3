/**
 * Gradient rules for matrix products. A batched activation times a 2-D
 * weight (the linear layer) gets its weight gradient from one `Gemm` over the
 * flattened batch, never from a batched product followed by a sum.
 */
import type { GradientContext, GradientRule } from './gradient-rule.js';
import { floatAttribute, intAttribute } from './gradient-rule.js';
import type { Tensor } from './graph.js';
import { reshapeLike, sumToShape } from './gradient-helpers.js';
import { mul } from './ops-elementwise.js';
import { fusedMatMul, gemm, matMul } from './ops-linalg.js';
import { reshape, squeeze, transpose, unsqueeze } from './ops-shape.js';
import type { Dim } from './shape.js';

/** `op(a) @ op(b)` with transposes of the last two dims, fused where the dtype allows. */
function product(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (!transA && !transB) return matMul(a, b);
  if (a.dtype === 'float32' || a.dtype === 'float64') return fusedMatMul(a, b, { transA, transB });
  const swapLast = (t: Tensor): Tensor => {
    const perm = Array.from({ length: t.rank }, (_, axis) => axis);
    perm[t.rank - 1] = t.rank - 2;
    perm[t.rank - 2] = t.rank - 1;
    return transpose(t, perm);
  };
  return matMul(transA ? swapLast(a) : a, transB ? swapLast(b) : b);
}

function matMulGradients(c: GradientContext, a: Tensor, b: Tensor, gy: Tensor): [Tensor | undefined, Tensor | undefined] {
  // Linear layer: a [..., M, K] (rank > 2) @ b [K, N].
  if (b.rank === 2 && a.rank > 2) {
    const k = a.shape[a.rank - 1] as Dim;
    const n = b.shape[1] as Dim;
    const ga = c.needsGradient[0] ? product(gy, b, false, true) : undefined; // [..., M, K]
    let gb: Tensor | undefined;
    if (c.needsGradient[1]) {
      const a2 = reshape(a, [-1, k]); // [rows, K]
      const gy2 = reshape(gy, [-1, n]); // [rows, N]
      gb = gemm(a2, gy2, undefined, { transA: true }); // [K, N]
    }
    return [ga, gb];
  }
  const ga = c.needsGradient[0] ? sumToShape(product(gy, b, false, true), a) : undefined;
  const gb = c.needsGradient[1] ? sumToShape(product(a, gy, true, false), b) : undefined;
  return [ga, gb];
}

export const LINALG_RULES: Readonly<Record<string, GradientRule>> = {
  MatMul: (c) => {
    let a = c.inputs[0] as Tensor;
    let b = c.inputs[1] as Tensor;
    let gy = c.outputGradients[0] as Tensor;
    const vectorA = a.rank === 1;
    const vectorB = b.rank === 1;
    if (vectorB) {
      b = unsqueeze(b, [1]); // [K, 1]
      gy = unsqueeze(gy, [-1]);
    }
    if (vectorA) {
      a = unsqueeze(a, [0]); // [1, K]
      gy = unsqueeze(gy, [gy.rank - 1]);
    }
    let [ga, gb] = matMulGradients(c, a, b, gy);
    if (vectorA && ga !== undefined) ga = reshapeLike(squeeze(sumToShape(ga, a), [0]), c.inputs[0] as Tensor);
    if (vectorB && gb !== undefined) gb = reshapeLike(squeeze(sumToShape(gb, b), [1]), c.inputs[1] as Tensor);
    return [ga, gb];
  },
  Gemm: (c) => {
    const [a, b] = [c.inputs[0] as Tensor, c.inputs[1] as Tensor];
    const cInput = c.inputs[2];
    const transA = intAttribute(c.node, 'transA', 0) === 1;
    const transB = intAttribute(c.node, 'transB', 0) === 1;
    // The attribute is stored as float32, so the forward pass used fround(alpha).
    const alpha = Math.fround(floatAttribute(c.node, 'alpha', 1));
    const beta = Math.fround(floatAttribute(c.node, 'beta', 1));
    const gyRaw = c.outputGradients[0] as Tensor;
    const gy = alpha === 1 ? gyRaw : mul(gyRaw, alpha);
    let ga: Tensor | undefined;
    if (c.needsGradient[0]) {
      ga = transA ? gemm(b, gy, undefined, { transA: transB, transB: true }) : gemm(gy, b, undefined, { transB: !transB });
    }
    let gb: Tensor | undefined;
    if (c.needsGradient[1]) {
      gb = transB ? gemm(gy, a, undefined, { transA: true, transB: transA }) : gemm(a, gy, undefined, { transA: !transA });
    }
    let gc: Tensor | undefined;
    if (cInput !== undefined && c.needsGradient[2]) gc = sumToShape(beta === 1 ? gyRaw : mul(gyRaw, beta), cInput);
    return [ga, gb, gc];
  },
  'com.microsoft::FusedMatMul': (c) => {
    const [a, b] = [c.inputs[0] as Tensor, c.inputs[1] as Tensor];
    const transA = intAttribute(c.node, 'transA', 0) === 1;
    const transB = intAttribute(c.node, 'transB', 0) === 1;
    const alpha = Math.fround(floatAttribute(c.node, 'alpha', 1));
    const gyRaw = c.outputGradients[0] as Tensor;
    const gy = alpha === 1 ? gyRaw : mul(gyRaw, alpha);
    let ga: Tensor | undefined;
    if (c.needsGradient[0]) {
      ga = sumToShape(transA ? product(b, gy, transB, true) : product(gy, b, false, !transB), a);
    }
    let gb: Tensor | undefined;
    if (c.needsGradient[1]) {
      gb = sumToShape(transB ? product(gy, a, true, transA) : product(a, gy, !transA, false), b);
    }
    return [ga, gb];
  },
};
