/**
 * Scaled dot-product attention with grouped-query heads and a boolean mask,
 * composed from primitives (MatMul, Where, Softmax, Reshape), so autodiff
 * covers it. Query heads that share a key/value head are folded into the
 * sequence axis, so keys and values are never repeated in memory.
 */
import { MasaError } from '@masa-rl/core';
import type { DType } from './dtype.js';
import { graphState, type Graph, type Tensor } from './graph.js';
import { add, and, greater, lessOrEqual, mul, where } from './ops-elementwise.js';
import { fusedMatMul, matMul } from './ops-linalg.js';
import { softmax } from './ops-reduce.js';
import { range, reshape, squeeze, transpose, unsqueeze } from './ops-shape.js';
import { dimTensor } from './runtime-shape.js';
import { requireDType } from './operands.js';
import { formatShape, type Dim } from './shape.js';

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** `[batch, queryHeads, seq, headDim]` */
  query: Tensor;
  /** `[batch, kvHeads, keySeq, headDim]`; queryHeads must be a multiple of kvHeads. */
  key: Tensor;
  /** `[batch, kvHeads, keySeq, headDim]` */
  value: Tensor;
  /** Bool, true = may attend; broadcastable to `[batch, 1, seq, keySeq]` (see {@link causalMask}). */
  mask?: Tensor;
  /**
   * Multiplies the scores.
   * @default 1 / sqrt(headDim)
   */
  scale?: number;
  /**
   * Score given to masked positions before the softmax (finite, so a fully
   * masked row gives uniform weights rather than NaN).
   * @default -1e9 (float32) / -1e30 (float64)
   */
  maskedScore?: number;
}

/** Attention output `[batch, queryHeads, seq, headDim]`. */
export function attention(options: AttentionOptions): Tensor {
  const { query, key, value, mask } = options;
  if (query.rank !== 4 || key.rank !== 4 || value.rank !== 4) {
    throw new MasaError(
      'GRAPH_INVALID',
      `attention: query, key and value must be [batch, heads, seq, headDim], got ${formatShape(query.shape)}, ${formatShape(key.shape)}, ${formatShape(value.shape)}`,
    );
  }
  const [batch, queryHeads, seq, headDim] = query.shape as [Dim, Dim, Dim, Dim];
  const kvHeads = key.shape[1] as Dim;
  if (typeof queryHeads !== 'number' || typeof kvHeads !== 'number' || typeof headDim !== 'number' || queryHeads % kvHeads !== 0) {
    throw new MasaError(
      'GRAPH_INVALID',
      `attention: head counts and headDim must be static with queryHeads a multiple of kvHeads, got query ${formatShape(query.shape)} and key ${formatShape(key.shape)}`,
    );
  }
  const group = queryHeads / kvHeads;
  const keySeq = key.shape[2] as Dim;
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  const maskedScore = options.maskedScore ?? (query.dtype === 'float64' ? -1e30 : -1e9);
  // Fold the query heads of one group into the sequence axis: [batch, kvHeads, group*seq, headDim].
  const scaledQuery = mul(query, scale);
  const folded = group === 1 ? scaledQuery : reshape(scaledQuery, [batch, kvHeads, -1, headDim]);
  const useFused = query.dtype === 'float32' || query.dtype === 'float64';
  let scores = useFused ? fusedMatMul(folded, key, { transB: true }) : matMul(folded, transposeLast(key)); // [batch, kvHeads, group*seq, keySeq]
  if (mask !== undefined) {
    requireDType('attention', mask, ['bool'], 'mask');
    // An additive bias (0 or maskedScore), built once per mask and shared by all layers:
    // Add passes its gradient straight through, where Where would need a second select.
    const bias = maskBias(mask, query.dtype, maskedScore); // [batch, 1, seq, keySeq]
    if (group === 1) scores = add(scores, bias);
    else {
      const grouped = reshape(scores, [batch, kvHeads, group, seq, keySeq]); // [batch, kvHeads, group, seq, keySeq]
      const bias5 = bias.rank === 4 ? unsqueeze(bias, [1]) : bias; // [batch, 1, 1, seq, keySeq]
      scores = reshape(add(grouped, bias5), [batch, kvHeads, -1, keySeq]);
    }
  }
  const weights = softmax(scores, { axis: -1 });
  const context = matMul(weights, value); // [batch, kvHeads, group*seq, headDim]
  return group === 1 ? context : reshape(context, [batch, queryHeads, seq, headDim]);
}

/** `where(mask, 0, maskedScore)` in the scores' dtype, memoised per mask so every layer shares one. */
function maskBias(mask: Tensor, dtype: DType, maskedScore: number): Tensor {
  const state = graphState(mask.graph);
  const key = `mask-bias:${mask.id}:${dtype}:${maskedScore}`;
  const cached = state.memo.get(key);
  if (cached !== undefined) return mask.graph.tensorById(cached);
  const zero = mask.graph.constant(0, { dtype });
  const bias = where(mask, zero, maskedScore);
  state.memo.set(key, bias.id);
  return bias;
}

function transposeLast(x: Tensor): Tensor {
  const perm = Array.from({ length: x.rank }, (_, axis) => axis);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return transpose(x, perm);
}

/** Options of {@link causalMask}. */
export interface CausalMaskOptions {
  /** The sequence dim (a symbol declared by a graph input, or a number). */
  seq: Dim;
  /** Optional `[batch, seq]` padding mask (int64/int32/bool; nonzero = real token). */
  paddingMask?: Tensor;
}

/**
 * Bool mask `[batch | 1, 1, seq, seq]`: query i may attend to key j when
 * j <= i and key j is not padding.
 */
export function causalMask(graph: Graph, options: CausalMaskOptions): Tensor {
  const length = dimTensor(graph, options.seq);
  if (length === undefined) {
    throw new MasaError('GRAPH_INVALID', `causalMask: cannot read dim ${String(options.seq)} at run time; declare it in a graph input's shape`);
  }
  const positions = range(graph, 0, squeeze(length, [0]), 1, 'int64'); // [seq]
  const rows = unsqueeze(positions, [1]); // [seq, 1]
  const columns = unsqueeze(positions, [0]); // [1, seq]
  const causal = unsqueeze(lessOrEqual(columns, rows), [0, 1]); // [1, 1, seq, seq]
  if (options.paddingMask === undefined) return causal;
  const padding = options.paddingMask;
  const real = padding.dtype === 'bool' ? padding : greater(padding, 0); // [batch, seq]
  return and(causal, unsqueeze(real, [1, 2])); // [batch, 1, seq, seq]
}
