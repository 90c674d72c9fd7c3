// The models of bench/rollout/: random weights in Qwen3 layout, the shapes of shared/docs/ENVIRONMENT.md's anchors.
// Shared by run.mjs (decode throughput), step-profile.mjs (where a decode step's time goes) and ab-decode.mjs.
import { join } from 'node:path';

/** GQA 4 q / 2 kv heads, head_dim 64, SwiGLU, untied head. */
export const MODELS = {
  tiny: { vocabSize: 512, hiddenSize: 256, numLayers: 4, intermediateSize: 384 },
  small: { vocabSize: 8192, hiddenSize: 256, numLayers: 6, intermediateSize: 768 },
};
/** Qwen3-0.6B's shape (tied head). */
export const QWEN3_0_6B = { vocabSize: 151936, hiddenSize: 1024, numLayers: 28, intermediateSize: 3072, numHeads: 16, numKvHeads: 8, headDim: 128, tieWordEmbeddings: true };

/**
 * The config and weights of one bench model. Each tensor is a pool of normals tiled from a random shift: cheap for the
 * 0.6B shape, and no two tensors share memory pages (identical weights let this VM's host merge pages, which made the
 * 0.6B shape decode 1.4× faster than distinct weights do). Timing does not depend on the values.
 */
export async function createBenchModel(root, name, shape) {
  const importPackage = (pkg) => import(join(root, 'packages', pkg, 'dist', 'index.js'));
  const { createRng } = await importPackage('core');
  const { createModelConfigJson, parseModelConfig, listParameters, countParameters } = await importPackage('model');
  const config = parseModelConfig(
    createModelConfigJson({ architecture: 'qwen3', numHeads: 4, numKvHeads: 2, headDim: 64, ...shape, maxPositionEmbeddings: 4096, eosTokenId: shape.vocabSize - 1 }),
  );
  const rng = createRng(`bench-rollout-${name}`);
  const pool = Float32Array.from({ length: 1 << 20 }, () => 0.05 * rng.normal());
  const weights = new Map();
  let linearParameters = config.tieWordEmbeddings ? config.vocabSize * config.hiddenSize : 0; // a tied head is a GEMM too
  for (const spec of listParameters(config)) {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    const offset = spec.kind === 'norm' ? 1 : 0;
    const shift = rng.int(0, pool.length - 1);
    for (let i = 0; i < data.length; i++) data[i] = offset + pool[(i + shift) & (pool.length - 1)];
    weights.set(spec.name, data);
    if (spec.kind === 'linear') linearParameters += data.length;
  }
  return { config, weights, parameters: countParameters(config), linearParameters };
}

/** The models that step-profile.mjs and ab-decode.mjs take as --model. */
export const MODEL_FLAGS = { ...MODELS, '0.6b': QWEN3_0_6B };

/** {@link createBenchModel} for a --model name, seeded as run.mjs seeds it ('0.6b' is run.mjs's 'qwen3-0.6b'). */
export function createBenchModelFor(root, flag) {
  return createBenchModel(root, flag === '0.6b' ? 'qwen3-0.6b' : flag, MODEL_FLAGS[flag]);
}
