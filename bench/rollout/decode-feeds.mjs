// The feeds of one decode step of the engine's decode graph (@masa-rl/rollout's experimental_buildDecodeGraph), as
// the engine sends them: batch rows at the same position, every row's cache valid from slot 0 to `length`, in
// buffers of the engine's capacity for that length, the best `topK` logits ranked, no rows drawn in the graph. For
// the bench scripts that run the graph on its own (decode-graph.mjs, step-profile.mjs, ab-decode.mjs), with the
// runtime and session options they run it under.
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** onnxruntime-node as @masa-rl/onnx resolves it. */
export const loadOrt = (root) => createRequire(join(root, 'packages', 'onnx', 'package.json'))('onnxruntime-node');

/** The session options of @masa-rl/onnx's createSession, which the engine's sessions use, at `threads` ORT threads. */
export const engineSessionOptions = (threads) => ({ intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });

/** The engine's cache capacity for `length` used slots (ort-engine.ts, ensureCapacity): a quarter more, in steps of 16. */
export const capacityFor = (length) => Math.ceil((length * 1.25) / 16) * 16;

/**
 * @param {object} options
 * @param {string} options.root the repository root (to import the built packages)
 * @param {{ vocabSize: number, numLayers: number, numKvHeads: number, headDim: number }} options.config
 * @param {number} options.batch
 * @param {number} options.length cache slots in use; the new token's position
 * @param {(dtype: 'int64' | 'float32' | 'float64', dims: number[], data: BigInt64Array | Float32Array | Float64Array) => unknown} options.tensor
 *   makes a tensor of whatever kind the caller's session takes (an @masa-rl/onnx TensorValue, an ort.Tensor)
 * @param {(layer: number, kind: 'key' | 'value', index: number) => number} [options.cacheValue] the cache buffers' contents
 * @param {number} [options.topK]
 * @param {number} [options.capacity]
 * @param {Map<string, Float32Array>} [options.weights] the weights, fed too: for a graph built with weights as inputs
 */
export async function decodeStepFeeds({ root, config, batch, length, tensor, cacheValue = (layer, _kind, i) => 0.05 * Math.sin(i * 0.37 + layer), topK = 50, capacity = capacityFor(length), weights }) {
  const { CACHE_LENGTH, CACHE_START, TOP_K, DRAW_ROWS, DRAW_UNIFORM, DRAW_INVERSE_TEMPERATURE } = await import(join(root, 'packages', 'rollout', 'dist', 'index.js'));
  const { INPUT_IDS, POSITION_IDS, pastName, listParameters } = await import(join(root, 'packages', 'model', 'dist', 'index.js'));
  const int64 = (dims, values) => tensor('int64', dims, BigInt64Array.from(values, BigInt));
  const feeds = {
    [INPUT_IDS]: int64([batch, 1], Array.from({ length: batch }, (_, row) => (row * 31 + 7) % config.vocabSize)),
    [POSITION_IDS]: int64([batch, 1], new Array(batch).fill(length)),
    [CACHE_START]: int64([batch], new Array(batch).fill(0)),
    [CACHE_LENGTH]: int64([1], [length]),
    [TOP_K]: int64([1], [topK]),
    [DRAW_ROWS]: int64([0], []),
    [DRAW_UNIFORM]: tensor('float64', [0], new Float64Array(0)),
    [DRAW_INVERSE_TEMPERATURE]: tensor('float64', [0], new Float64Array(0)),
  };
  const dims = [batch, config.numKvHeads, capacity, config.headDim];
  const size = dims.reduce((a, b) => a * b, 1);
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const kind of /** @type {const} */ (['key', 'value'])) {
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = cacheValue(layer, kind, i);
      feeds[pastName(layer, kind)] = tensor('float32', dims, data);
    }
  }
  if (weights !== undefined) for (const spec of listParameters(config)) feeds[spec.name] = tensor('float32', spec.shape, weights.get(spec.name));
  return { feeds, capacity };
}
