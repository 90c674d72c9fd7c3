/**
 * The decoder stack (Qwen3 / Qwen2 / Llama) as an ONNX graph built with @masa-rl/onnx.
 * One function builds every variant — prefill, decode with a KV cache, log-probs, the
 * training step, the transformers.js export — so they cannot drift apart.
 *
 * Weights use Hugging Face names and PyTorch layout (linear weights `[out, in]`, applied
 * with a transposed matmul), and enter the graph either as inputs (fed at run time
 * without a copy; what training updates) or as initializers (frozen, stored in the model).
 */
import { MasaError } from '@masa-rl/core';
import {
  add,
  and,
  applyRotary,
  attention,
  cast,
  concat,
  cos,
  createTensorValue,
  fusedMatMul,
  gather,
  greater,
  lessOrEqual,
  mul,
  range,
  reshape,
  rmsNorm,
  shape,
  silu,
  sin,
  split,
  squeeze,
  sub,
  transpose,
  unsqueeze,
  withShape,
} from '@masa-rl/onnx';
import type { Graph, Tensor } from '@masa-rl/onnx';
import { computeInverseFrequencies } from './config.js';
import type { ModelConfig } from './config.js';
import type { FloatArray } from './safetensors.js';
import { listParameters, PROJECTION_MODULES, projectionHasBias, projectionPrefix, projectionShape } from './parameters.js';
import type { ProjectionModule } from './parameters.js';

/** Element type of a graph. */
export type GraphDtype = 'float32' | 'float64';

/** Graph input/output names, shared with transformers.js' decoder convention. */
export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const POSITION_IDS = 'position_ids';
/** Symbolic dims, named as transformers.js expects (it sizes the empty cache from `batch_size`). */
export const BATCH_DIM = 'batch_size';
export const SEQUENCE_DIM = 'sequence_length';
export const PAST_DIM = 'past_sequence_length';
export const TOTAL_DIM = 'total_sequence_length';

/** `past_key_values.{layer}.key|value`: the cache fed into a step. */
export function pastName(layer: number, kind: 'key' | 'value'): string {
  return `past_key_values.${layer}.${kind}`;
}
/** `present.{layer}.key|value`: the cache a step returns. */
export function presentName(layer: number, kind: 'key' | 'value'): string {
  return `present.${layer}.${kind}`;
}

/** LoRA settings as PEFT stores them in adapter_config.json. */
export interface LoraConfig {
  /** `r`: the rank of the update. */
  rank: number;
  /** `lora_alpha`: the update is scaled by alpha / rank (or alpha / sqrt(rank) with rsLoRA). */
  alpha: number;
  /** Projections that get adapters (`q_proj`, `v_proj` …). */
  targetModules: readonly ProjectionModule[];
  /** rsLoRA scaling alpha / sqrt(rank). @default false */
  useRslora?: boolean;
}

/** PEFT's parameter names of one adapter pair (`…q_proj.lora_A.weight` `[r, in]`, `…lora_B.weight` `[out, r]`). */
export function loraParameterNames(layer: number, module: ProjectionModule): { a: string; b: string } {
  const prefix = `base_model.model.${projectionPrefix(layer, module)}`;
  return { a: `${prefix}.lora_A.weight`, b: `${prefix}.lora_B.weight` };
}

/** Every LoRA parameter with its shape, in layer then module order. */
export function listLoraParameters(config: ModelConfig, lora: LoraConfig): Array<{ name: string; shape: [number, number] }> {
  checkLoraConfig(lora);
  const out: Array<{ name: string; shape: [number, number] }> = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const module of PROJECTION_MODULES) {
      if (!lora.targetModules.includes(module)) continue;
      const [outDim, inDim] = projectionShape(config, module);
      const names = loraParameterNames(layer, module);
      out.push({ name: names.a, shape: [lora.rank, inDim] }, { name: names.b, shape: [outDim, lora.rank] });
    }
  }
  return out;
}

/** The factor LoRA's update is multiplied by. */
export function loraScaling(lora: LoraConfig): number {
  return lora.useRslora === true ? lora.alpha / Math.sqrt(lora.rank) : lora.alpha / lora.rank;
}

/** Throws `CONFIG_INVALID` for a LoRA config masa-rl cannot build. */
export function checkLoraConfig(lora: LoraConfig): void {
  if (!Number.isInteger(lora.rank) || lora.rank <= 0) {
    throw new MasaError('CONFIG_INVALID', `LoRA rank (r) must be a positive integer, got ${lora.rank}`);
  }
  if (!Number.isFinite(lora.alpha)) throw new MasaError('CONFIG_INVALID', `LoRA alpha must be a finite number, got ${lora.alpha}`);
  if (lora.targetModules.length === 0) {
    throw new MasaError('CONFIG_INVALID', `LoRA target_modules is empty: name some of ${PROJECTION_MODULES.join(', ')}`);
  }
  for (const module of lora.targetModules) {
    if (!PROJECTION_MODULES.includes(module)) {
      throw new MasaError('CONFIG_INVALID', `LoRA target module "${String(module)}" is not one of ${PROJECTION_MODULES.join(', ')}`);
    }
  }
}

/** Where a group of weights comes from. */
export type WeightSource =
  /** Graph inputs named after the parameters, fed at run time (zero-copy). */
  | 'inputs'
  /** Initializers holding these arrays (frozen; serialising the graph copies them). */
  | ReadonlyMap<string, FloatArray>;

/** Declares every weight of the model (and LoRA adapters) in a graph; returns them by name. */
export function declareWeights(
  graph: Graph,
  options: { config: ModelConfig; dtype: GraphDtype; weights: WeightSource; lora?: { config: LoraConfig; weights: WeightSource } },
): Map<string, Tensor> {
  const { config, dtype } = options;
  const tensors = new Map<string, Tensor>();
  const declare = (name: string, dims: readonly number[], source: WeightSource): void => {
    if (source === 'inputs') {
      tensors.set(name, graph.input(name, dtype, dims));
      return;
    }
    const data = source.get(name);
    if (data === undefined) throw new MasaError('ARGUMENT_INVALID', `weights have no "${name}" (shape ${JSON.stringify(dims)})`, { details: { tensor: name } });
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new MasaError('ARGUMENT_INVALID', `weight "${name}" has ${data.length} elements, shape ${JSON.stringify(dims)} needs ${expected}`, {
        details: { tensor: name },
      });
    }
    const matches = dtype === 'float64' ? data instanceof Float64Array : data instanceof Float32Array;
    const typed = matches ? data : dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
    tensors.set(name, graph.initializer(name, createTensorValue(dtype, dims, typed as never)));
  };
  for (const spec of listParameters(config)) declare(spec.name, spec.shape, options.weights);
  if (options.lora !== undefined) {
    for (const spec of listLoraParameters(config, options.lora.config)) declare(spec.name, spec.shape, options.lora.weights);
  }
  return tensors;
}

/** Inputs of {@link buildDecoder}. */
export interface DecoderInputs {
  /** int64 `[batch, seq]` */
  inputIds: Tensor;
  /** int64 `[batch, seq]`: the position of each token (left padding → count real tokens only). */
  positionIds: Tensor;
  /** int64 `[batch, past + seq]`: 1 for real tokens, 0 for padding. */
  attentionMask: Tensor;
  /** Per layer, the cached keys (after RoPE) and values `[batch, kvHeads, past, headDim]`. */
  past?: ReadonlyArray<{ key: Tensor; value: Tensor }>;
}

/** Options of {@link buildDecoder}. */
export interface BuildDecoderOptions {
  config: ModelConfig;
  dtype: GraphDtype;
  /** Weights by Hugging Face name (from {@link declareWeights}). */
  weights: ReadonlyMap<string, Tensor>;
  /** LoRA adapters present in `weights` under PEFT names. @default none */
  lora?: LoraConfig;
  inputs: DecoderInputs;
}

/** What {@link buildDecoder} returns. */
export interface DecoderOutputs {
  /** Final hidden states after the last norm, `[batch, seq, hidden]`. */
  hidden: Tensor;
  /** Per layer, the cache including this step, `[batch, kvHeads, past + seq, headDim]`. */
  present: Array<{ key: Tensor; value: Tensor }>;
}

/** Builds the embedding, every decoder layer and the final norm. */
export function buildDecoder(options: BuildDecoderOptions): DecoderOutputs {
  const { config, dtype, weights, lora, inputs } = options;
  const { numHeads, numKvHeads, headDim, rmsNormEps: epsilon } = config;
  const graph = inputs.inputIds.graph;
  const weight = (name: string): Tensor => {
    const tensor = weights.get(name);
    if (tensor === undefined) throw new MasaError('INTERNAL', `decoder graph: weight ${name} was not declared`);
    return tensor;
  };
  const scaling = lora === undefined ? 0 : loraScaling(lora);
  const project = (x: Tensor, layer: number, module: ProjectionModule): Tensor => {
    const prefix = projectionPrefix(layer, module);
    let y = fusedMatMul(x, weight(`${prefix}.weight`), { transB: true }); // x @ W^T
    if (projectionHasBias(config, module)) y = add(y, weight(`${prefix}.bias`));
    if (lora !== undefined && lora.targetModules.includes(module)) {
      const names = loraParameterNames(layer, module);
      const down = fusedMatMul(x, weight(names.a), { transB: true }); // [.., r]
      // The scale is a constant of the graph dtype (FusedMatMul's alpha attribute is float32 only).
      y = add(y, mul(fusedMatMul(down, weight(names.b), { transB: true }), scaling));
    }
    return y;
  };

  const batch = inputs.inputIds.shape[0] as string | number;
  const seq = inputs.inputIds.shape[1] as string | number;
  // Rotary tables [batch, 1, seq, rotaryDim/2] from the positions and HF's inverse frequencies.
  const { rotaryDim } = config.rope;
  const inverse = graph.constant(createTensorValue(dtype, [rotaryDim / 2], Array.from(computeInverseFrequencies(config.rope))));
  const angles = mul(unsqueeze(cast(inputs.positionIds, dtype), [1, 3]), inverse); // [batch, 1, seq, rotaryDim/2]
  const tables = { cos: cos(angles), sin: sin(angles) };
  const rotate = (x: Tensor): Tensor => {
    if (rotaryDim === headDim) return applyRotary(x, tables);
    const [rotating, passing] = split(x, { axis: -1, sizes: [rotaryDim, headDim - rotaryDim] }) as [Tensor, Tensor];
    return concat([applyRotary(rotating, tables), passing], -1);
  };

  // Mask [batch, 1, seq, past + seq]: query i (absolute index past + i) sees key j ≤ past + i that is not padding.
  const past = inputs.past;
  const sequenceLength = squeeze(shape(inputs.inputIds, { start: 1, end: 2 }), [0]); // scalar int64
  const totalLength = squeeze(shape(inputs.attentionMask, { start: 1, end: 2 }), [0]);
  const pastLength = sub(totalLength, sequenceLength);
  const keyPositions = unsqueeze(range(graph, 0, totalLength), [0]); // [1, total]
  const queryPositions = unsqueeze(add(range(graph, 0, sequenceLength), pastLength), [1]); // [seq, 1]
  const causal = unsqueeze(lessOrEqual(keyPositions, queryPositions), [0, 1]); // [1, 1, seq, total]
  const real = unsqueeze(greater(inputs.attentionMask, 0), [1, 2]); // [batch, 1, 1, total]
  const rawMask = and(causal, real); // [batch, 1, seq, total]
  let mask: Tensor | undefined;
  // Name the key axis as the keys name it (after the cache concat), so shapes line up.
  const maskFor = (keys: Tensor): Tensor => (mask ??= withShape(rawMask, [batch, 1, seq, keys.shape[2] as string | number]));

  const heads = (x: Tensor, count: number): Tensor => transpose(reshape(x, [batch, seq, count, headDim]), [0, 2, 1, 3]); // [batch, count, seq, headDim]
  let h = gather(weight('model.embed_tokens.weight'), inputs.inputIds); // [batch, seq, hidden]
  const present: Array<{ key: Tensor; value: Tensor }> = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const x = rmsNorm(h, weight(`${p}.input_layernorm.weight`), { epsilon }); // [batch, seq, hidden]
    let q = heads(project(x, layer, 'q_proj'), numHeads); // [batch, heads, seq, headDim]
    let k = heads(project(x, layer, 'k_proj'), numKvHeads); // [batch, kvHeads, seq, headDim]
    let v = heads(project(x, layer, 'v_proj'), numKvHeads);
    if (config.qkNorm) {
      q = rmsNorm(q, weight(`${p}.self_attn.q_norm.weight`), { epsilon });
      k = rmsNorm(k, weight(`${p}.self_attn.k_norm.weight`), { epsilon });
    }
    q = rotate(q);
    k = rotate(k);
    const cached = past?.[layer];
    if (cached !== undefined) {
      k = concat([cached.key, k], 2); // [batch, kvHeads, past + seq, headDim]
      v = concat([cached.value, v], 2);
    }
    present.push({ key: k, value: v });
    const context = attention({ query: q, key: k, value: v, mask: maskFor(k) }); // [batch, heads, seq, headDim]
    const merged = reshape(transpose(context, [0, 2, 1, 3]), [batch, seq, numHeads * headDim]);
    h = add(h, project(merged, layer, 'o_proj'));
    const y = rmsNorm(h, weight(`${p}.post_attention_layernorm.weight`), { epsilon });
    const gated = mul(silu(project(y, layer, 'gate_proj')), project(y, layer, 'up_proj')); // [batch, seq, intermediate]
    h = add(h, project(gated, layer, 'down_proj'));
  }
  return { hidden: rmsNorm(h, weight('model.norm.weight'), { epsilon }), present };
}

/** `hidden @ lm_head^T` (or the embedding when tied): `[..., hidden]` → `[..., vocab]`. */
export function languageModelHead(config: ModelConfig, weights: ReadonlyMap<string, Tensor>, hidden: Tensor): Tensor {
  const name = config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const head = weights.get(name);
  if (head === undefined) throw new MasaError('INTERNAL', `decoder graph: weight ${name} was not declared`);
  return fusedMatMul(hidden, head, { transB: true });
}
