import { mkdir } from 'node:fs/promises';
import { createRng } from '@masa-rl/core';
import { createModelConfigJson, parseModelConfig } from './config.js';
import type { Architecture, ModelConfig } from './config.js';
import { saveModel } from './checkpoint.js';
import type { WeightMap } from './checkpoint.js';
import { listParameters } from './parameters.js';
import type { FloatDtype } from './safetensors.js';

/** Options of {@link createRandomModel}. */
export interface RandomModelOptions {
  /** Folder to write (created when missing). */
  modelDir: string;
  architecture: Architecture;
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  /** Tie the LM head to the embedding (`tie_word_embeddings`). @default false */
  tie?: boolean;
  /** Seed of the initialisation (number or string). */
  seed: number | string;
  /** Element type of the written weights. @default 'F32' */
  dtype?: FloatDtype;
  /** Standard deviation of the normal initialisation. @default 0.02 */
  initStd?: number;
  /** `rope_theta`. @default 1e6 (qwen) / 5e5 (llama) */
  ropeTheta?: number;
  /** Llama 3.1 `rope_scaling` (type llama3). @default none */
  ropeScaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };
  /** `rms_norm_eps`. @default 1e-6 */
  rmsNormEps?: number;
  /** `max_position_embeddings`. @default 4096 */
  maxPositionEmbeddings?: number;
  /** `eos_token_id`. @default vocabSize - 1 (qwen) / 2 (llama) */
  eosTokenId?: number | number[] | null;
  /** `bos_token_id`. @default null (qwen) / 1 (llama) */
  bosTokenId?: number | null;
  /** `pad_token_id`. @default absent */
  padTokenId?: number | null;
  /** `attention_bias` for qwen3 / llama (q, k, v, o biases; qwen2 always has q/k/v biases). @default false */
  attentionBias?: boolean;
  /** Extra or replaced config.json keys (e.g. `partial_rotary_factor`, `rope_scaling`), applied last. @default none */
  configOverrides?: Record<string, unknown>;
  /** Copy tokenizer files (`tokenizer.json`, `tokenizer_config.json` …) from this folder. @default none */
  tokenizerDir?: string;
  /** Shard the weights (see `saveModel`). @default one file */
  maxShardBytes?: number;
}

/** What {@link createRandomModel} wrote. */
export interface RandomModel {
  modelDir: string;
  config: ModelConfig;
}

/**
 * Writes a randomly initialised model as a real Hugging Face folder (`config.json`,
 * `model.safetensors`, optional tokenizer files) that transformers loads as is.
 *
 * Every tensor is drawn from its own stream `createRng(seed).fork(name)`: linear weights,
 * embeddings and biases ~ N(0, initStd²); norm weights ~ 1 + N(0, initStd²). (transformers
 * initialises norms to exactly 1 and biases to 0; random values here make tests notice a
 * swapped or skipped norm or bias.)
 */
export async function createRandomModel(options: RandomModelOptions): Promise<RandomModel> {
  const { modelDir, architecture, seed, dtype = 'F32', initStd = 0.02, tie = false } = options;
  const raw = createModelConfigJson({
    architecture,
    vocabSize: options.vocabSize,
    hiddenSize: options.hiddenSize,
    intermediateSize: options.intermediateSize,
    numLayers: options.layers,
    numHeads: options.heads,
    numKvHeads: options.kvHeads,
    headDim: options.headDim,
    tieWordEmbeddings: tie,
    torchDtype: torchDtypeName(dtype),
    ...(options.ropeTheta !== undefined ? { ropeTheta: options.ropeTheta } : {}),
    ...(options.ropeScaling !== undefined ? { ropeScaling: options.ropeScaling } : {}),
    ...(options.rmsNormEps !== undefined ? { rmsNormEps: options.rmsNormEps } : {}),
    ...(options.maxPositionEmbeddings !== undefined ? { maxPositionEmbeddings: options.maxPositionEmbeddings } : {}),
    ...(options.eosTokenId !== undefined ? { eosTokenId: options.eosTokenId } : {}),
    ...(options.bosTokenId !== undefined ? { bosTokenId: options.bosTokenId } : {}),
    ...(options.padTokenId !== undefined ? { padTokenId: options.padTokenId } : {}),
  });
  if (options.attentionBias === true && architecture !== 'qwen2') raw['attention_bias'] = true;
  Object.assign(raw, options.configOverrides ?? {});
  const config = parseModelConfig(raw, `${modelDir}/config.json`);
  const root = createRng(seed);
  const weights: WeightMap = new Map();
  for (const spec of listParameters(config)) {
    const rng = root.fork(spec.name);
    const numel = spec.shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'F64' ? new Float64Array(numel) : new Float32Array(numel);
    const offset = spec.kind === 'norm' ? 1 : 0;
    for (let i = 0; i < numel; i++) data[i] = offset + initStd * rng.normal();
    weights.set(spec.name, data);
  }
  await mkdir(modelDir, { recursive: true });
  await saveModel({
    modelDir,
    config,
    weights,
    dtype,
    ...(options.maxShardBytes !== undefined ? { maxShardBytes: options.maxShardBytes } : {}),
    ...(options.tokenizerDir !== undefined ? { copyFilesFrom: options.tokenizerDir } : {}),
  });
  return { modelDir, config };
}

function torchDtypeName(dtype: FloatDtype): 'float32' | 'float16' | 'bfloat16' | 'float64' {
  return dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : dtype === 'BF16' ? 'bfloat16' : 'float64';
}
