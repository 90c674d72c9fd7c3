/**
 * Rotary position embeddings in the "rotate half" layout used by Llama, Qwen2
 * and Qwen3: the first and second halves of each head are the two coordinates
 * of each rotated pair. Composed from Split/Mul/Sub/Add/Concat, so autodiff
 * covers it.
 */
import { MasaError } from '@masa-rl/core';
import type { Graph, Tensor } from './graph.js';
import { add, cast, cos, mul, sin, sub } from './ops-elementwise.js';
import { concat, split, unsqueeze } from './ops-shape.js';
import { requireDType } from './operands.js';
import { formatShape } from './shape.js';
import { createTensorValue } from './tensor-value.js';
import type { DType } from './dtype.js';

/** Options of {@link rotaryTables}. */
export interface RotaryTablesOptions {
  /** Size of one attention head (even). */
  headDim: number;
  /**
   * Base of the inverse frequencies (`rope_theta`).
   * @default 10000
   */
  theta?: number;
  /** @default 'float32' */
  dtype?: DType;
}

/** Cosine and sine tables for {@link applyRotary}. */
export interface RotaryTables {
  /** `[batch, 1, seq, headDim / 2]` */
  cos: Tensor;
  /** `[batch, 1, seq, headDim / 2]` */
  sin: Tensor;
}

/** Computes rotary tables in the graph from integer positions `[batch, seq]`. */
export function rotaryTables(graph: Graph, positions: Tensor, options: RotaryTablesOptions): RotaryTables {
  requireDType('rotaryTables', positions, ['int64', 'int32'], 'positions');
  const { headDim, theta = 10000, dtype = 'float32' } = options;
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
    throw new MasaError('GRAPH_INVALID', `rotaryTables: headDim must be a positive even integer, got ${headDim}`);
  }
  const half = headDim / 2;
  const inverseFrequencies = Array.from({ length: half }, (_, i) => 1 / theta ** ((2 * i) / headDim));
  const frequencies = graph.constant(createTensorValue(dtype, [half], inverseFrequencies)); // [half]
  const angles = mul(unsqueeze(cast(positions, dtype), [1, 3]), frequencies); // [batch, 1, seq, half]
  return { cos: cos(angles), sin: sin(angles) };
}

/** Rotates x `[batch, heads, seq, headDim]` by the tables (`[batch | 1, 1, seq, headDim / 2]`). */
export function applyRotary(x: Tensor, tables: RotaryTables): Tensor {
  const headDim = x.shape[x.rank - 1];
  if (typeof headDim !== 'number' || headDim % 2 !== 0) {
    throw new MasaError('GRAPH_INVALID', `applyRotary: the last dim of ${formatShape(x.shape)} must be a static even number`);
  }
  const [first, second] = split(x, { axis: -1, numOutputs: 2 }) as [Tensor, Tensor]; // [..., headDim/2] each
  const rotatedFirst = sub(mul(first, tables.cos), mul(second, tables.sin));
  const rotatedSecond = add(mul(second, tables.cos), mul(first, tables.sin));
  return concat([rotatedFirst, rotatedSecond], -1);
}
