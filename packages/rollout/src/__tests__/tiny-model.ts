/**
 * Tiny random Qwen3-shaped models in memory for the ORT engine tests, plus a
 * toy tokenizer (one lowercase letter per id) so that stop strings have text.
 */
import { createRng } from '@masa-rl/core';
import { createModelConfigJson, listParameters, parseModelConfig, type Architecture, type ModelConfig } from '@masa-rl/model';

export interface TinyModel {
  config: ModelConfig;
  weights: Map<string, Float32Array>;
}

export interface TinyModelOverrides {
  architecture?: Architecture;
  vocabSize?: number;
  hiddenSize?: number;
  intermediateSize?: number;
  headDim?: number;
  layers?: number;
  kvHeads?: number;
  tie?: boolean;
  std?: number;
  eosTokenId?: number;
  ropeScaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };
  /** Extra config.json keys (attention_bias, mlp_bias, partial_rotary_factor …). */
  configOverrides?: Record<string, unknown>;
}

/** vocab 64, hidden 32, 2 layers, 4 query / 2 kv heads of 8 (unless overridden); weights ~ N(0, std²), norms ~ 1 + N(0, std²). */
export function tinyModel(seed: string, overrides: TinyModelOverrides = {}): TinyModel {
  const raw = createModelConfigJson({
    architecture: overrides.architecture ?? 'qwen3',
    vocabSize: overrides.vocabSize ?? 64,
    hiddenSize: overrides.hiddenSize ?? 32,
    intermediateSize: overrides.intermediateSize ?? 48,
    numLayers: overrides.layers ?? 2,
    numHeads: 4,
    numKvHeads: overrides.kvHeads ?? 2,
    headDim: overrides.headDim ?? 8,
    maxPositionEmbeddings: 256,
    eosTokenId: overrides.eosTokenId ?? 63,
    tieWordEmbeddings: overrides.tie ?? false,
    ...(overrides.ropeScaling === undefined ? {} : { ropeScaling: overrides.ropeScaling }),
  });
  Object.assign(raw, overrides.configOverrides ?? {});
  const config = parseModelConfig(raw);
  const root = createRng(seed);
  const std = overrides.std ?? 0.3;
  const weights = new Map<string, Float32Array>();
  for (const spec of listParameters(config)) {
    const rng = root.fork(spec.name);
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    const offset = spec.kind === 'norm' ? 1 : 0;
    for (let i = 0; i < data.length; i++) data[i] = offset + std * rng.normal();
    weights.set(spec.name, data);
  }
  return { config, weights };
}

/** id → one letter (`a` + id mod 26), so any token sequence has text. */
export const letterTokenizer = {
  decode: (ids: readonly number[]): string => ids.map((id) => String.fromCharCode(97 + (id % 26))).join(''),
};
