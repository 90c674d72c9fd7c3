/**
 * The graphs the ORT engine runs.
 *
 * **Prefill** is `@masa-rl/model`'s causal-LM graph without a cache: logits of
 * each row's last position and `present.{i}.key|value` `[batch, kvHeads, seq,
 * headDim]`, which the engine writes into its cache buffers.
 *
 * **Decode** (one token per row) is built here, because the decoder's usual
 * step — concatenate the cache with the new keys and values, then attend —
 * copies the whole cache inside ORT at every step (and returning the cache as
 * an output copies it again, at ≈ 1.5 GB/s): per step, work proportional to
 * the cache instead of the model. This graph instead
 * - takes the engine's cache buffers `[batch, kvHeads, capacity, headDim]` as
 *   they are (inputs are read in place) and never copies them: attention is
 *   split into the cached part (a matmul straight over the buffer, invalid
 *   slots masked by `cache_start` / `cache_length`) and the new token, joined
 *   only at the score level (`capacity + 1` numbers per head);
 * - returns this step's keys and values `new.{i}.key|value`
 *   `[batch, kvHeads, 1, headDim]` and the logits `[batch, vocab]`.
 * The layer maths mirror `buildDecoder` of `@masa-rl/model` (RMSNorm, q/k
 * norms, rotary tables from the position ids, projections with their biases,
 * SwiGLU); the engine's tests hold both to the full forward pass and to the
 * scoring graph.
 */
import { MasaError } from '@masa-rl/core';
import {
  BATCH_DIM,
  INPUT_IDS,
  POSITION_IDS,
  buildCausalLmGraph,
  computeInverseFrequencies,
  declareWeights,
  languageModelHead,
  pastName,
  projectionHasBias,
  projectionPrefix,
  type ModelConfig,
  type ProjectionModule,
  type WeightSource,
} from '@masa-rl/model';
import {
  add,
  and,
  applyRotary,
  cast,
  concat,
  cos,
  createGraph,
  createTensorValue,
  fusedMatMul,
  gather,
  greaterOrEqual,
  less,
  matMul,
  mul,
  range,
  reshape,
  rmsNorm,
  shape,
  silu,
  sin,
  slice,
  softmax,
  split,
  squeeze,
  sub,
  unsqueeze,
  withShape,
  type Graph,
  type Tensor,
} from '@masa-rl/onnx';

/** Capacity dim of the cache buffers. */
export const CAPACITY_DIM = 'cache_capacity';
/** int64 `[batch]`: first valid cache slot of each row. */
export const CACHE_START = 'cache_start';
/** int64 `[1]`: cache slots in use (the same for every row; slots before a row's start are padding). */
export const CACHE_LENGTH = 'cache_length';

/** Output name of one layer's new keys or values. */
export function newCacheName(layer: number, kind: 'key' | 'value'): string {
  return `new.${layer}.${kind}`;
}

/** Prefill: the model's own causal-LM graph without a cache (logits of the last position, present keys/values). */
export function buildPrefillGraph(config: ModelConfig, weightSource: WeightSource = 'inputs'): Graph {
  return buildCausalLmGraph({ config, dtype: 'float32', weights: weightSource, withPast: false, logits: 'last', name: 'rollout-prefill' }).graph;
}

/**
 * Decode one token per row over the engine's cache buffers (see the file comment). Weights are graph inputs
 * (`'inputs'`: fed by reference, so a trainer's in-place updates are seen) or initializers holding these arrays.
 */
export function buildDecodeGraph(config: ModelConfig, weightSource: WeightSource = 'inputs'): Graph {
  const { numHeads, numKvHeads, headDim, hiddenSize, rmsNormEps: epsilon } = config;
  if (numHeads % numKvHeads !== 0) throw new MasaError('GRAPH_INVALID', `decode graph: ${numHeads} query heads are not a multiple of ${numKvHeads} kv heads`);
  const group = numHeads / numKvHeads;
  const graph = createGraph({ name: 'rollout-decode' });
  const inputIds = graph.input(INPUT_IDS, 'int64', [BATCH_DIM, 1]); // [batch, 1]
  const positionIds = graph.input(POSITION_IDS, 'int64', [BATCH_DIM, 1]); // [batch, 1]
  const cacheStart = graph.input(CACHE_START, 'int64', [BATCH_DIM]); // [batch]
  const cacheLength = graph.input(CACHE_LENGTH, 'int64', [1]); // [1]
  const buffers = Array.from({ length: config.numLayers }, (_, layer) => ({
    key: graph.input(pastName(layer, 'key'), 'float32', [BATCH_DIM, numKvHeads, CAPACITY_DIM, headDim]),
    value: graph.input(pastName(layer, 'value'), 'float32', [BATCH_DIM, numKvHeads, CAPACITY_DIM, headDim]),
  }));
  const weights = declareWeights(graph, { config, dtype: 'float32', weights: weightSource });
  const weight = (name: string): Tensor => {
    const tensor = weights.get(name);
    if (tensor === undefined) throw new MasaError('INTERNAL', `decode graph: weight ${name} was not declared`);
    return tensor;
  };
  const project = (x: Tensor, layer: number, module: ProjectionModule): Tensor => {
    const prefix = projectionPrefix(layer, module);
    const y = fusedMatMul(x, weight(`${prefix}.weight`), { transB: true }); // x @ W^T
    return projectionHasBias(config, module) ? add(y, weight(`${prefix}.bias`)) : y;
  };

  // Additive mask over the cache slots: 0 where start ≤ slot < length, else -1e9 (as the model's attention masks). [batch, 1, 1, capacity]
  const capacity = squeeze(shape(buffers[0]?.key as Tensor, { start: 2, end: 3 }), [0]); // scalar
  const slots = unsqueeze(range(graph, 0, capacity), [0]); // [1, capacity]
  const valid = and(greaterOrEqual(slots, unsqueeze(cacheStart, [1])), less(slots, cacheLength)); // [batch, capacity]
  const pastBias = unsqueeze(mul(sub(cast(valid, 'float32'), 1), 1e9), [1, 2]); // [batch, 1, 1, capacity]

  // Rotary tables [batch, 1, 1, rotaryDim/2] from the positions.
  const { rotaryDim } = config.rope;
  const inverse = graph.constant(createTensorValue('float32', [rotaryDim / 2], Array.from(computeInverseFrequencies(config.rope))));
  const angles = mul(unsqueeze(cast(positionIds, 'float32'), [1, 3]), inverse); // [batch, 1, 1, rotaryDim/2]
  const tables = { cos: cos(angles), sin: sin(angles) };
  const rotate = (x: Tensor): Tensor => {
    if (rotaryDim === headDim) return applyRotary(x, tables);
    const [rotating, passing] = split(x, { axis: -1, sizes: [rotaryDim, headDim - rotaryDim] }) as [Tensor, Tensor];
    return concat([applyRotary(rotating, tables), passing], -1);
  };
  const scale = 1 / Math.sqrt(headDim);
  const end = [2 ** 31 - 1];

  let h = gather(weight('model.embed_tokens.weight'), inputIds); // [batch, 1, hidden]
  const fresh: { key: Tensor; value: Tensor }[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const cache = buffers[layer] as { key: Tensor; value: Tensor };
    const x = rmsNorm(h, weight(`${p}.input_layernorm.weight`), { epsilon }); // [batch, 1, hidden]
    // One token per row: [batch, 1, heads·headDim] reshapes to [batch, kvHeads, group, headDim] without a transpose.
    let q = reshape(project(x, layer, 'q_proj'), [BATCH_DIM, numKvHeads, group, headDim]); // query head j·group + i → [j, i]
    let k = reshape(project(x, layer, 'k_proj'), [BATCH_DIM, numKvHeads, 1, headDim]);
    const v = reshape(project(x, layer, 'v_proj'), [BATCH_DIM, numKvHeads, 1, headDim]);
    if (config.qkNorm) {
      q = rmsNorm(q, weight(`${p}.self_attn.q_norm.weight`), { epsilon });
      k = rmsNorm(k, weight(`${p}.self_attn.k_norm.weight`), { epsilon });
    }
    q = mul(rotate(q), scale);
    k = rotate(k);
    fresh.push({ key: k, value: v });
    const pastScores = add(fusedMatMul(q, cache.key, { transB: true }), pastBias); // [batch, kvHeads, group, capacity]
    const newScores = fusedMatMul(q, k, { transB: true }); // [batch, kvHeads, group, 1]
    const weightsAll = softmax(concat([pastScores, newScores], -1), { axis: -1 }); // [batch, kvHeads, group, capacity + 1]
    const pastWeights = withShape(slice(weightsAll, { starts: [0], ends: [-1], axes: [3] }), [BATCH_DIM, numKvHeads, group, CAPACITY_DIM]);
    const newWeights = slice(weightsAll, { starts: [-1], ends: end, axes: [3] }); // [batch, kvHeads, group, 1]
    const context = add(matMul(pastWeights, cache.value), mul(newWeights, v)); // [batch, kvHeads, group, headDim]
    h = add(h, project(reshape(context, [BATCH_DIM, 1, numHeads * headDim]), layer, 'o_proj'));
    const y = rmsNorm(h, weight(`${p}.post_attention_layernorm.weight`), { epsilon });
    h = add(h, project(mul(silu(project(y, layer, 'gate_proj')), project(y, layer, 'up_proj')), layer, 'down_proj'));
  }
  const hidden = reshape(rmsNorm(h, weight('model.norm.weight'), { epsilon }), [BATCH_DIM, hiddenSize]); // [batch, hidden]
  graph.output('logits', languageModelHead(config, weights, hidden)); // [batch, vocab]
  fresh.forEach(({ key, value }, layer) => {
    graph.output(newCacheName(layer, 'key'), key); // [batch, kvHeads, 1, headDim]
    graph.output(newCacheName(layer, 'value'), value);
  });
  return graph;
}
