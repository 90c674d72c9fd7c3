/** Tiny Qwen3 models with seeded random weights for the ORT backend's tests. */
import { createRng } from '@masa-rl/core';
import { createModelConfigJson, listParameters, parseModelConfig, type FloatArray, type ModelConfig } from '@masa-rl/model';

export interface TinyModelOptions {
  seed: number;
  dtype: 'float32' | 'float64';
  /** @default 13 */
  vocabSize?: number;
  /** @default 16 */
  hiddenSize?: number;
  /** @default 2 */
  layers?: number;
  /** @default 0.3 (large enough that log-probs differ visibly between tokens) */
  initStd?: number;
  /** @default 64 */
  maxPositionEmbeddings?: number;
}

/** A 2-layer Qwen3 (4 q / 2 kv heads of 8, tied embeddings) with N(0, initStd²) weights and norms 1 + N(0, 0.1²). */
export function createTinyModel(options: TinyModelOptions): { config: ModelConfig; weights: Map<string, FloatArray> } {
  const { seed, dtype, vocabSize = 13, hiddenSize = 16, layers = 2, initStd = 0.3, maxPositionEmbeddings = 64 } = options;
  const raw = createModelConfigJson({
    architecture: 'qwen3',
    vocabSize,
    hiddenSize,
    intermediateSize: 24,
    numLayers: layers,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    tieWordEmbeddings: true,
    maxPositionEmbeddings,
    ropeTheta: 10_000,
    eosTokenId: vocabSize - 1,
    padTokenId: 0,
  });
  const config = parseModelConfig(raw, 'tiny/config.json');
  const root = createRng(seed);
  const weights = new Map<string, FloatArray>();
  for (const spec of listParameters(config)) {
    const rng = root.fork(spec.name);
    const numel = spec.shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'float64' ? new Float64Array(numel) : new Float32Array(numel);
    for (let i = 0; i < numel; i++) data[i] = spec.kind === 'norm' ? 1 + 0.1 * rng.normal() : initStd * rng.normal();
    weights.set(spec.name, data);
  }
  return { config, weights };
}
