/**
 * Test helper: a small Qwen3-shaped causal decoder (RMSNorm, rotary
 * positions, grouped-query attention with a padding mask, SwiGLU MLP,
 * optional q/k norms, tied or untied embeddings) with a token-level weighted
 * log-likelihood loss, built from the package's public ops. Not exported.
 */
import type { Rng } from '@masa-rl/core';
import { attention, causalMask } from '../attention.js';
import type { DType } from '../dtype.js';
import { createGraph, type Graph, type Tensor } from '../graph.js';
import { add, mul, neg, silu } from '../ops-elementwise.js';
import { fusedMatMul, matMul } from '../ops-linalg.js';
import { tokenLogProbs } from '../ops-loss.js';
import { logSoftmax, reduceSum } from '../ops-reduce.js';
import { gatherElements, gather, reshape, squeeze, transpose, unsqueeze } from '../ops-shape.js';
import { rmsNorm } from '../rms-norm.js';
import { applyRotary, rotaryTables } from '../rotary-embedding.js';
import { createTensorValue, elementCount, type TensorValue } from '../tensor-value.js';

export interface TinyDecoderConfig {
  vocab: number;
  hidden: number;
  layers: number;
  queryHeads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  tied: boolean;
  qkNorm: boolean;
  /** @default true */
  fusedNorm?: boolean;
  /** Score targets with tokenLogProbs (SoftmaxCrossEntropyLoss) instead of LogSoftmax + GatherElements. @default false */
  crossEntropyLoss?: boolean;
}

export interface ParameterSpec {
  name: string;
  dims: number[];
  /** Norm weights start at 1 (plus noise), matrices at N(0, 1/fan_in). */
  kind: 'norm' | 'matrix' | 'embedding';
}

export function decoderParameters(config: TinyDecoderConfig): ParameterSpec[] {
  const { vocab, hidden, queryHeads, kvHeads, headDim, intermediate } = config;
  const specs: ParameterSpec[] = [{ name: 'embed', dims: [vocab, hidden], kind: 'embedding' }];
  for (let layer = 0; layer < config.layers; layer++) {
    const p = `layers.${layer}.`;
    specs.push(
      { name: `${p}input_norm`, dims: [hidden], kind: 'norm' },
      { name: `${p}wq`, dims: [hidden, queryHeads * headDim], kind: 'matrix' },
      { name: `${p}wk`, dims: [hidden, kvHeads * headDim], kind: 'matrix' },
      { name: `${p}wv`, dims: [hidden, kvHeads * headDim], kind: 'matrix' },
      ...(config.qkNorm
        ? [
            { name: `${p}q_norm`, dims: [headDim], kind: 'norm' as const },
            { name: `${p}k_norm`, dims: [headDim], kind: 'norm' as const },
          ]
        : []),
      { name: `${p}wo`, dims: [queryHeads * headDim, hidden], kind: 'matrix' },
      { name: `${p}post_norm`, dims: [hidden], kind: 'norm' },
      { name: `${p}w_gate`, dims: [hidden, intermediate], kind: 'matrix' },
      { name: `${p}w_up`, dims: [hidden, intermediate], kind: 'matrix' },
      { name: `${p}w_down`, dims: [intermediate, hidden], kind: 'matrix' },
    );
  }
  specs.push({ name: 'final_norm', dims: [hidden], kind: 'norm' });
  if (!config.tied) specs.push({ name: 'lm_head', dims: [hidden, vocab], kind: 'matrix' });
  return specs;
}

export function initParameters(rng: Rng, config: TinyDecoderConfig, dtype: 'float32' | 'float64', scale = 1): Record<string, TensorValue> {
  const values: Record<string, TensorValue> = {};
  for (const spec of decoderParameters(config)) {
    const count = elementCount(spec.dims);
    const std = spec.kind === 'matrix' ? scale / Math.sqrt(spec.dims[0] as number) : spec.kind === 'embedding' ? scale : 0;
    const data = Array.from({ length: count }, () => (spec.kind === 'norm' ? 1 + 0.1 * rng.normal() : std * rng.normal()));
    values[spec.name] = createTensorValue(dtype, spec.dims, data);
  }
  return values;
}

export interface DecoderGraph {
  graph: Graph;
  loss: Tensor;
  parameters: Tensor[];
}

/** Builds the forward graph up to the scalar loss `-Σ weights · log p(target)`. */
export function buildDecoderLoss(config: TinyDecoderConfig, dtype: DType): DecoderGraph {
  const { queryHeads, kvHeads, headDim } = config;
  const graph = createGraph({ name: 'tiny-decoder' });
  const ids = graph.input('input_ids', 'int64', ['batch', 'seq']);
  const paddingMask = graph.input('attention_mask', 'int64', ['batch', 'seq']);
  const positions = graph.input('position_ids', 'int64', ['batch', 'seq']);
  const targets = graph.input('targets', 'int64', ['batch', 'seq']);
  const weights = graph.input('token_weights', dtype, ['batch', 'seq']);
  const parameters = decoderParameters(config).map((spec) => graph.input(spec.name, dtype, spec.dims));
  const p = (name: string): Tensor => graph.tensor(name);
  const fused = config.fusedNorm ?? true;

  let h = gather(p('embed'), ids); // [batch, seq, hidden]
  const tables = rotaryTables(graph, positions, { headDim, dtype });
  const mask = causalMask(graph, { seq: 'seq', paddingMask }); // [batch, 1, seq, seq]
  const heads = (x: Tensor, count: number): Tensor => transpose(reshape(x, ['batch', 'seq', count, headDim]), [0, 2, 1, 3]); // [batch, count, seq, headDim]
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `layers.${layer}.`;
    const x = rmsNorm(h, p(`${prefix}input_norm`), { fused }); // [batch, seq, hidden]
    let q = heads(matMul(x, p(`${prefix}wq`)), queryHeads);
    let k = heads(matMul(x, p(`${prefix}wk`)), kvHeads);
    const v = heads(matMul(x, p(`${prefix}wv`)), kvHeads);
    if (config.qkNorm) {
      q = rmsNorm(q, p(`${prefix}q_norm`), { fused });
      k = rmsNorm(k, p(`${prefix}k_norm`), { fused });
    }
    q = applyRotary(q, tables);
    k = applyRotary(k, tables);
    const context = attention({ query: q, key: k, value: v, mask }); // [batch, queryHeads, seq, headDim]
    const merged = reshape(transpose(context, [0, 2, 1, 3]), ['batch', 'seq', queryHeads * headDim]);
    h = add(h, matMul(merged, p(`${prefix}wo`)));
    const y = rmsNorm(h, p(`${prefix}post_norm`), { fused });
    const gated = mul(silu(matMul(y, p(`${prefix}w_gate`))), matMul(y, p(`${prefix}w_up`))); // [batch, seq, intermediate]
    h = add(h, matMul(gated, p(`${prefix}w_down`)));
  }
  h = rmsNorm(h, p('final_norm'), { fused });
  const logits = config.tied ? fusedMatMul(h, p('embed'), { transB: true }) : matMul(h, p('lm_head')); // [batch, seq, vocab]
  const picked = config.crossEntropyLoss
    ? tokenLogProbs(logits, targets)
    : squeeze(gatherElements(logSoftmax(logits, { axis: -1 }), unsqueeze(targets, [-1]), { axis: -1 }), [-1]); // [batch, seq]
  const loss = neg(reduceSum(mul(picked, weights), { keepdims: false }));
  return { graph, loss, parameters };
}

export interface DecoderBatch {
  input_ids: TensorValue;
  attention_mask: TensorValue;
  position_ids: TensorValue;
  targets: TensorValue;
  token_weights: TensorValue;
}

/** A left-padded random batch; pad positions get weight 0. */
export function randomBatch(rng: Rng, config: TinyDecoderConfig, dtype: 'float32' | 'float64', batch: number, seq: number, padding: readonly number[]): DecoderBatch {
  const ids: bigint[] = [];
  const mask: bigint[] = [];
  const positions: bigint[] = [];
  const targets: bigint[] = [];
  const weights: number[] = [];
  for (let b = 0; b < batch; b++) {
    const pad = padding[b] ?? 0;
    for (let t = 0; t < seq; t++) {
      const real = t >= pad;
      ids.push(BigInt(real ? rng.int(0, config.vocab - 1) : 0));
      mask.push(real ? 1n : 0n);
      positions.push(BigInt(real ? t - pad : 0));
      targets.push(BigInt(rng.int(0, config.vocab - 1)));
      weights.push(real ? 0.5 + rng.next() : 0);
    }
  }
  return {
    input_ids: createTensorValue('int64', [batch, seq], ids),
    attention_mask: createTensorValue('int64', [batch, seq], mask),
    position_ids: createTensorValue('int64', [batch, seq], positions),
    targets: createTensorValue('int64', [batch, seq], targets),
    token_weights: createTensorValue(dtype, [batch, seq], weights),
  };
}
