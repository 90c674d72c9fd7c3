#!/usr/bin/env node
// One decode step (batch 32 by default) over a long cache: the ORT engine's decode graph (attention split into the
// cached part, read in place from the engine's buffers, and the new token) against the usual step (the
// model's decoder: slice the used cache out of the buffers, concatenate the new keys/values, attend), same
// weights, same buffers, interleaved runs in one process. Tiny model shape (vocab 512, hidden 256,
// 4 layers, GQA 4/2 heads of 64).
//
//   pnpm --filter @masa-rl/rollout build && node bench/rollout/decode-graph.mjs [--batch 32] [cache lengths…, default 128 512 1024]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeStepFeeds } from './decode-feeds.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packages = join(root, 'packages');
const { createRng } = await import(join(packages, 'core', 'dist', 'index.js'));
const { createSession, createTensorValue, createGraph, shape, slice, withShape, squeeze } = await import(join(packages, 'onnx', 'dist', 'index.js'));
const model = await import(join(packages, 'model', 'dist', 'index.js'));
const { experimental_buildDecodeGraph: buildDecodeGraph } = await import(join(packages, 'rollout', 'dist', 'index.js'));
const { createModelConfigJson, parseModelConfig, listParameters, buildDecoder, declareWeights, languageModelHead, pastName } = model;
const { INPUT_IDS, ATTENTION_MASK, POSITION_IDS, BATCH_DIM, PAST_DIM, SEQUENCE_DIM, TOTAL_DIM } = model;

const KV_HEADS = 2;
const HEAD_DIM = 64;
const argv = process.argv.slice(2);
const batchFlag = argv.indexOf('--batch');
const BATCH = batchFlag >= 0 ? Number(argv.splice(batchFlag, 2)[1]) : 32;
const config = parseModelConfig(
  createModelConfigJson({ architecture: 'qwen3', vocabSize: 512, hiddenSize: 256, numLayers: 4, intermediateSize: 384, numHeads: 4, numKvHeads: KV_HEADS, headDim: HEAD_DIM }),
);

/** The usual step: slice the used cache out of the capacity buffers, then the model's decoder (concat + attention). */
function concatStepGraph() {
  const graph = createGraph({ name: 'concat-step' });
  const inputIds = graph.input(INPUT_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]);
  const attentionMask = graph.input(ATTENTION_MASK, 'int64', [BATCH_DIM, TOTAL_DIM]);
  const positionIds = graph.input(POSITION_IDS, 'int64', [BATCH_DIM, SEQUENCE_DIM]);
  const cacheLength = graph.input('cache_length', 'int64', [PAST_DIM]); // its length is the past length
  const past = shape(cacheLength);
  const zero = graph.constant([0], { dtype: 'int64' });
  const end = graph.constant([2 ** 31 - 1], { dtype: 'int64' });
  const pastShape = [BATCH_DIM, KV_HEADS, PAST_DIM, HEAD_DIM];
  const cached = Array.from({ length: config.numLayers }, (_, layer) => {
    const used = (kind) => withShape(slice(graph.input(pastName(layer, kind), 'float32', [BATCH_DIM, KV_HEADS, 'capacity', HEAD_DIM]), { starts: zero, ends: past, axes: [2] }), pastShape);
    return { key: used('key'), value: used('value') };
  });
  const weights = declareWeights(graph, { config, dtype: 'float32', weights: 'inputs' });
  const { hidden, present } = buildDecoder({ config, dtype: 'float32', weights, inputs: { inputIds, attentionMask, positionIds, past: cached } });
  graph.output('logits', languageModelHead(config, weights, squeeze(slice(hidden, { starts: [-1], ends: [2 ** 31 - 1], axes: [1] }), [1])));
  present.forEach(({ key, value }, layer) => {
    graph.output(`new.${layer}.key`, slice(key, { starts: past, ends: end, axes: [2] }));
    graph.output(`new.${layer}.value`, slice(value, { starts: past, ends: end, axes: [2] }));
  });
  return graph;
}

const rng = createRng('decode-graph-bench');
const weightFeeds = {};
for (const spec of listParameters(config)) {
  const data = Float32Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, () => (spec.kind === 'norm' ? 1 : 0) + 0.05 * rng.normal());
  weightFeeds[spec.name] = createTensorValue('float32', spec.shape, data);
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const concatSession = await createSession({ model: concatStepGraph() });
const splitSession = await createSession({ model: buildDecodeGraph(config, 'inputs') });
// The logits and the new keys/values, as the concat step returns (the engine's ranked top-k outputs are left out).
const splitOutputs = splitSession.outputNames.filter((name) => name === 'logits' || name.startsWith('new.'));
const lengths = argv.length > 0 ? argv.map(Number) : [128, 512, 1024];
for (const length of lengths) {
  // The engine's feeds (its capacity for this length: a quarter over the length, in steps of 16 slots); the concat
  // step reads the same buffers, ids and positions.
  const { feeds: splitFeeds, capacity } = await decodeStepFeeds({
    root,
    config,
    batch: BATCH,
    length,
    tensor: (dtype, dims, data) => createTensorValue(dtype, dims, data),
    cacheValue: () => 0.1 * rng.normal(),
    topK: 1, // the engine's ranked outputs are not compared here
  });
  Object.assign(splitFeeds, weightFeeds);
  const concatFeeds = {
    ...weightFeeds,
    [INPUT_IDS]: splitFeeds[INPUT_IDS],
    [POSITION_IDS]: splitFeeds[POSITION_IDS],
    ...Object.fromEntries(Array.from({ length: config.numLayers }, (_, layer) => ['key', 'value'].map((kind) => [pastName(layer, kind), splitFeeds[pastName(layer, kind)]])).flat()),
    [ATTENTION_MASK]: createTensorValue('int64', [BATCH, length + 1], new BigInt64Array(BATCH * (length + 1)).fill(1n)),
    cache_length: createTensorValue('int64', [length], new BigInt64Array(length)),
  };
  const a = (await concatSession.run(concatFeeds)).logits.data;
  const b = (await splitSession.run(splitFeeds, { outputs: splitOutputs })).logits.data;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference = Math.max(difference, Math.abs(a[i] - b[i]));
  const concatMs = [];
  const splitMs = [];
  for (let run = 0; run < 12; run++) {
    let started = performance.now();
    await concatSession.run(concatFeeds);
    concatMs.push(performance.now() - started);
    started = performance.now();
    await splitSession.run(splitFeeds, { outputs: splitOutputs });
    splitMs.push(performance.now() - started);
  }
  const row = { batch: BATCH, cacheLength: length, capacity, maxLogitDifference: difference, concatStepMs: Number(median(concatMs).toFixed(2)), splitStepMs: Number(median(splitMs).toFixed(2)) };
  process.stdout.write(`${JSON.stringify({ ...row, speedup: Number((row.concatStepMs / row.splitStepMs).toFixed(2)) })}\n`);
}
await concatSession.release();
await splitSession.release();
