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
 *   `[batch, kvHeads, 1, headDim]`, the logits `[batch, vocab]`, and what
 *   lets rows sample without them (the engine fetches what its rows need):
 *   each row's best `top_k` logits with their ids, whole-distribution draws
 *   for the rows named in `draw_rows`, and a per-row finite-check sum. A few
 *   numbers per row then leave ORT instead of the whole vocabulary.
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
  cast,
  concat,
  cos,
  createGraph,
  customOp,
  exp,
  gatherElements,
  greater,
  log,
  reduceMax,
  createTensorValue,
  fusedMatMul,
  gather,
  greaterOrEqual,
  less,
  matMul,
  mul,
  range,
  reduceSum,
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

/** int64 `[1]`: how many ranked candidates per row the decode graph returns. */
export const TOP_K = 'top_k';
const TOP_K_DIM = 'top_k';
/** float32 `[batch, top_k]`: each row's best logits, ranked. */
export const TOP_VALUES = 'top_values';
/** int32 `[batch, top_k]`: their token ids. */
export const TOP_IDS = 'top_ids';
/** float32 `[batch]`: each row's logit sum (finite unless a logit is not). */
export const LOGIT_SUMS = 'logit_sums';
const DRAW_DIM = 'draws';
/** int64 `[draws]`: the rows whose token the graph draws from the whole distribution. */
export const DRAW_ROWS = 'draw_rows';
/** float64 `[draws]`: each such row's uniform number in [0, 1). */
export const DRAW_UNIFORM = 'draw_uniform';
/** float64 `[draws]`: each such row's 1 / temperature. */
export const DRAW_INVERSE_TEMPERATURE = 'draw_inverse_temperature';
/** int32 `[draws]`: the drawn ids. */
export const DRAWN_IDS = 'drawn_ids';
/** float64 `[draws]`: their log-probabilities (at the row's temperature). */
export const DRAWN_LOGPROBS = 'drawn_logprobs';

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
  const topK = graph.input(TOP_K, 'int64', [1]); // [1]
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
  /**
   * Projections that read the same input, as one matrix product when the weights are frozen (one kernel call and one
   * pre-packed matrix instead of several), split after. Weights fed as inputs stay separate: joining them would copy
   * them at every run.
   */
  const projectTogether = (x: Tensor, layer: number, modules: readonly ProjectionModule[]): Tensor[] => {
    if (weightSource === 'inputs') return modules.map((module) => project(x, layer, module));
    // declareWeights has checked that every weight is there, with its size.
    const parts = modules.map((module) => weightSource.get(`${projectionPrefix(layer, module)}.weight`) as Float32Array | Float64Array);
    const rows = parts.map((part) => part.length / hiddenSize);
    const joined = new Float32Array(rows.reduce((a, b) => a + b, 0) * hiddenSize);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    let y = fusedMatMul(x, graph.initializer(`fused.${layer}.${modules.join('+')}.weight`, createTensorValue('float32', [joined.length / hiddenSize, hiddenSize], joined)), { transB: true });
    if (modules.some((module) => projectionHasBias(config, module))) {
      const bias = new Float32Array(joined.length / hiddenSize);
      let at = 0;
      modules.forEach((module, i) => {
        const part = projectionHasBias(config, module) ? weightSource.get(`${projectionPrefix(layer, module)}.bias`) : undefined;
        if (part !== undefined) bias.set(part, at);
        at += rows[i] as number;
      });
      y = add(y, graph.initializer(`fused.${layer}.${modules.join('+')}.bias`, createTensorValue('float32', [bias.length], bias)));
    }
    return split(y, { axis: -1, sizes: rows });
  };

  // Additive mask over the cache slots: 0 where start ≤ slot < length, else -1e9 (as the model's attention masks). [batch, 1, 1, 1, capacity]
  const capacity = squeeze(shape(buffers[0]?.key as Tensor, { start: 2, end: 3 }), [0]); // scalar
  const slots = unsqueeze(range(graph, 0, capacity), [0]); // [1, capacity]
  const valid = and(greaterOrEqual(slots, unsqueeze(cacheStart, [1])), less(slots, cacheLength)); // [batch, capacity]
  const pastBias = unsqueeze(mul(sub(cast(valid, 'float32'), 1), 1e9), [1, 2, 3]); // [batch, 1, 1, 1, capacity]

  // Rotary tables [batch, 1, rotaryDim/2] from the positions, for ONNX's RotaryEmbedding (rotate-half layout, one
  // node per tensor instead of a dozen elementwise ops).
  const { rotaryDim } = config.rope;
  const inverse = graph.constant(createTensorValue('float32', [rotaryDim / 2], Array.from(computeInverseFrequencies(config.rope))));
  const angles = mul(unsqueeze(cast(positionIds, 'float32'), [2]), inverse); // [batch, 1, rotaryDim/2]
  const cosTable = cos(angles);
  const sinTable = sin(angles);
  /** Rotates x `[batch, heads, 1, headDim]`. */
  const rotate = (x: Tensor): Tensor =>
    customOp({
      opType: 'RotaryEmbedding',
      inputs: [x, cosTable, sinTable],
      outputs: [{ dtype: 'float32', shape: x.shape }],
      attributes: { interleaved: { type: 'int', value: 0 }, ...(rotaryDim === headDim ? {} : { rotary_embedding_dim: { type: 'int', value: rotaryDim } }) },
    })[0] as Tensor;
  const scale = 1 / Math.sqrt(headDim);
  const end = [2 ** 31 - 1];

  let h = gather(weight('model.embed_tokens.weight'), inputIds); // [batch, 1, hidden]
  const fresh: { key: Tensor; value: Tensor }[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const cache = buffers[layer] as { key: Tensor; value: Tensor };
    const x = rmsNorm(h, weight(`${p}.input_layernorm.weight`), { epsilon }); // [batch, 1, hidden]
    const [qProjected, kProjected, vProjected] = projectTogether(x, layer, ['q_proj', 'k_proj', 'v_proj']) as [Tensor, Tensor, Tensor];
    // One token per row: [batch, 1, heads·headDim] reshapes to [batch, heads, 1, headDim] (query head j·group + i is
    // then [j, i] of [batch, kvHeads, group, headDim]) without a transpose.
    let q = reshape(qProjected, [BATCH_DIM, numHeads, 1, headDim]);
    let k = reshape(kProjected, [BATCH_DIM, numKvHeads, 1, headDim]);
    const v = reshape(vProjected, [BATCH_DIM, numKvHeads, 1, headDim]);
    if (config.qkNorm) {
      q = rmsNorm(q, weight(`${p}.self_attn.q_norm.weight`), { epsilon });
      k = rmsNorm(k, weight(`${p}.self_attn.k_norm.weight`), { epsilon });
    }
    // Attention as one-row matrix products: query head [j, i] is [batch, kvHeads, group, 1, headDim] against its kv
    // head's cache broadcast over the group ([batch, kvHeads, 1, capacity, headDim], a view). With one row per product
    // MLAS streams the cache without packing it first (its M = 1 kernels): 10–20% faster than products of `group` rows.
    q = reshape(mul(rotate(q), scale), [BATCH_DIM, numKvHeads, group, 1, headDim]);
    k = rotate(k);
    fresh.push({ key: k, value: v });
    const pastKeys = unsqueeze(cache.key, [2]); // [batch, kvHeads, 1, capacity, headDim]
    const pastValues = unsqueeze(cache.value, [2]);
    const pastScores = add(fusedMatMul(q, pastKeys, { transB: true }), pastBias); // [batch, kvHeads, group, 1, capacity]
    const newScores = reduceSum(mul(q, unsqueeze(k, [2])), { axes: [-1], keepdims: true }); // [batch, kvHeads, group, 1, 1]: one dot per head, no GEMM call
    const weightsAll = softmax(concat([pastScores, newScores], -1), { axis: -1 }); // [batch, kvHeads, group, 1, capacity + 1]
    const pastWeights = withShape(slice(weightsAll, { starts: [0], ends: [-1], axes: [4] }), [BATCH_DIM, numKvHeads, group, 1, CAPACITY_DIM]);
    const newWeights = slice(weightsAll, { starts: [-1], ends: end, axes: [4] }); // [batch, kvHeads, group, 1, 1]
    const context = add(matMul(pastWeights, pastValues), mul(newWeights, unsqueeze(v, [2]))); // [batch, kvHeads, group, 1, headDim]
    h = add(h, project(reshape(context, [BATCH_DIM, 1, numHeads * headDim]), layer, 'o_proj'));
    const y = rmsNorm(h, weight(`${p}.post_attention_layernorm.weight`), { epsilon });
    const [gate, up] = projectTogether(y, layer, ['gate_proj', 'up_proj']) as [Tensor, Tensor];
    h = add(h, project(mul(silu(gate), up), layer, 'down_proj'));
  }
  const hidden = reshape(rmsNorm(h, weight('model.norm.weight'), { epsilon }), [BATCH_DIM, hiddenSize]); // [batch, hidden]
  const logits = languageModelHead(config, weights, hidden); // [batch, vocab]
  graph.output('logits', logits);
  // Each row's best `top_k` logits, ranked (value descending, id ascending, as ONNX TopK defines ties), for the rows
  // that sample from a top-k (or greedily); and each row's logit sum, non-finite when any logit is NaN or ±Infinity,
  // to catch a broken output without copying the logits out.
  const [topValues, topIndices] = customOp({
    opType: 'TopK',
    inputs: [logits, topK],
    outputs: [
      { dtype: 'float32', shape: [BATCH_DIM, TOP_K_DIM] },
      { dtype: 'int64', shape: [BATCH_DIM, TOP_K_DIM] },
    ],
    attributes: { axis: { type: 'int', value: -1 }, largest: { type: 'int', value: 1 }, sorted: { type: 'int', value: 1 } },
  }) as [Tensor, Tensor];
  graph.output(TOP_VALUES, topValues);
  graph.output(TOP_IDS, cast(topIndices, 'int32'));
  graph.output(LOGIT_SUMS, reduceSum(logits, { axes: [-1], keepdims: false }));

  // Rows that sample from the whole distribution (no top-k, no top-p): the draw itself, by inverse CDF over the
  // row in token-id order, with the uniform number drawn in JS from the row's own stream. It is the JS sampler's
  // arithmetic step for step in float64 — weights exp((x − max)·(1/T)), running sums in id order, the first id whose
  // running sum exceeds u·total, logprob (x − max)·(1/T) − log(total) — so only an id and a logprob per row leave
  // ORT. The rows are gathered first: with none to draw, the tensors are empty and the nodes cost nothing.
  const drawRows = graph.input(DRAW_ROWS, 'int64', [DRAW_DIM]); // [draws]
  const uniform = graph.input(DRAW_UNIFORM, 'float64', [DRAW_DIM]); // [draws]
  const inverseTemperature = graph.input(DRAW_INVERSE_TEMPERATURE, 'float64', [DRAW_DIM]); // [draws]
  const drawn = gather(logits, drawRows, { axis: 0 }); // [draws, vocab]
  const rowMax = reduceMax(drawn, { axes: [-1], keepdims: true }); // [draws, 1]
  const scaled = mul(sub(cast(drawn, 'float64'), cast(rowMax, 'float64')), unsqueeze(inverseTemperature, [1])); // [draws, vocab]
  const running = customOp({
    opType: 'CumSum',
    inputs: [exp(scaled), graph.constant([1], { dtype: 'int64' })],
    outputs: [{ dtype: 'float64', shape: scaled.shape }],
  })[0] as Tensor; // [draws, vocab]
  const total = slice(running, { starts: [-1], ends: end, axes: [1] }); // [draws, 1]
  const passed = cast(greater(running, mul(unsqueeze(uniform, [1]), total)), 'int32'); // [draws, vocab]: 1 from the drawn id on
  const drawnId = customOp({
    opType: 'ArgMax',
    inputs: [passed],
    outputs: [{ dtype: 'int64', shape: [DRAW_DIM, 1] }],
    attributes: { axis: { type: 'int', value: -1 }, keepdims: { type: 'int', value: 1 }, select_last_index: { type: 'int', value: 0 } },
  })[0] as Tensor; // [draws, 1]: the first 1
  // Reshape, not Squeeze: with no rows to draw, ORT's ArgMax returns [0, vocab] rather than [0, 1].
  graph.output(DRAWN_IDS, withShape(reshape(cast(drawnId, 'int32'), [-1]), [DRAW_DIM]));
  graph.output(DRAWN_LOGPROBS, withShape(reshape(sub(gatherElements(scaled, drawnId, { axis: 1 }), log(total)), [-1]), [DRAW_DIM]));
  fresh.forEach(({ key, value }, layer) => {
    graph.output(newCacheName(layer, 'key'), key); // [batch, kvHeads, 1, headDim]
    graph.output(newCacheName(layer, 'value'), value);
  });
  return graph;
}
