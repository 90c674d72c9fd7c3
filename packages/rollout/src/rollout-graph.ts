/**
 * The graph the ORT engine runs for every prefill and decode step, built from
 * `@masa-rl/model`'s decoder so it cannot drift from the scoring and training
 * graphs.
 *
 * It differs from the model's causal-LM step in what crosses the boundary
 * (ORT copies every output at ≈ 1.5 GB/s, while inputs are read in place):
 * - the KV cache comes in as the engine's preallocated buffers
 *   `[batch, kvHeads, capacity, headDim]`; the graph slices the first `past`
 *   positions itself (`past` = the length of the `cache_length` input), so
 *   the buffers are fed as they are;
 * - it returns only this step's keys and values, `new.{i}.key|value`
 *   `[batch, kvHeads, seq, headDim]`, which the engine writes into its
 *   buffers, instead of the whole cache again;
 * - logits of the last position only, `[batch, vocab]`.
 */
import { INPUT_IDS, ATTENTION_MASK, POSITION_IDS, BATCH_DIM, PAST_DIM, SEQUENCE_DIM, TOTAL_DIM, buildDecoder, declareWeights, languageModelHead, pastName } from '@masa-rl/model';
import type { ModelConfig, WeightSource } from '@masa-rl/model';
import { createGraph, shape, slice, squeeze, withShape, type Graph } from '@masa-rl/onnx';

/** Capacity dim of the cache buffers. */
export const CAPACITY_DIM = 'cache_capacity';
/**
 * An int64 input of shape `[past]` whose *length* is the number of cache slots in use (its contents are
 * ignored; feed a view of a zero buffer). It gives the past length a name the graph builder can read at run time.
 */
export const CACHE_LENGTH = 'cache_length';

/** Output name of one layer's new keys or values. */
export function newCacheName(layer: number, kind: 'key' | 'value'): string {
  return `new.${layer}.${kind}`;
}

/**
 * Builds the rollout step graph (float32). Weights are graph inputs (`'inputs'`: fed by reference, so a
 * trainer's in-place updates are seen) or initializers holding these arrays (frozen into the session).
 */
export function buildRolloutStepGraph(config: ModelConfig, weightSource: WeightSource = 'inputs'): Graph {
  const graph = createGraph({ name: 'rollout-step' });
  const inputIds = graph.input(INPUT_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]); // [batch, seq]
  const attentionMask = graph.input(ATTENTION_MASK, 'int64', [BATCH_DIM, TOTAL_DIM]); // [batch, past + seq]
  const positionIds = graph.input(POSITION_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]); // [batch, seq]
  const buffers = Array.from({ length: config.numLayers }, (_, layer) => ({
    key: graph.input(pastName(layer, 'key'), 'float32', [BATCH_DIM, config.numKvHeads, CAPACITY_DIM, config.headDim]),
    value: graph.input(pastName(layer, 'value'), 'float32', [BATCH_DIM, config.numKvHeads, CAPACITY_DIM, config.headDim]),
  }));
  const cacheLength = graph.input(CACHE_LENGTH, 'int64', [PAST_DIM]); // [past], contents unused
  const past = shape(cacheLength); // [1]
  const zero = graph.constant([0], { dtype: 'int64' }); // [1]
  const end = graph.constant([2 ** 31 - 1], { dtype: 'int64' }); // [1]
  const pastShape = [BATCH_DIM, config.numKvHeads, PAST_DIM, config.headDim];
  const cached = buffers.map(({ key, value }) => ({
    key: withShape(slice(key, { starts: zero, ends: past, axes: [2] }), pastShape), // [batch, kvHeads, past, headDim]
    value: withShape(slice(value, { starts: zero, ends: past, axes: [2] }), pastShape),
  }));
  const weights = declareWeights(graph, { config, dtype: 'float32', weights: weightSource });
  const { hidden, present } = buildDecoder({ config, dtype: 'float32', weights, inputs: { inputIds, attentionMask, positionIds, past: cached } });
  const last = squeeze(slice(hidden, { starts: [-1], ends: [2 ** 31 - 1], axes: [1] }), [1]); // [batch, hidden]
  graph.output('logits', languageModelHead(config, weights, last)); // [batch, vocab]
  present.forEach(({ key, value }, layer) => {
    graph.output(newCacheName(layer, 'key'), slice(key, { starts: past, ends: end, axes: [2] })); // [batch, kvHeads, seq, headDim]
    graph.output(newCacheName(layer, 'value'), slice(value, { starts: past, ends: end, axes: [2] }));
  });
  return graph;
}
