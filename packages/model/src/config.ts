import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';

/** The decoder families masa-rl runs. */
export type Architecture = 'qwen3' | 'qwen2' | 'llama';

/** The `architectures` entry Hugging Face writes for each family. */
export const ARCHITECTURE_CLASS: Readonly<Record<Architecture, string>> = {
  qwen3: 'Qwen3ForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  llama: 'LlamaForCausalLM',
};

/** Rotary position embedding, as Hugging Face's `modeling_rope_utils` computes it. */
export interface RopeConfig {
  /** `default` (plain), `linear` (positions divided by `factor`) or `llama3` (Llama 3.1 frequency smoothing). */
  type: 'default' | 'linear' | 'llama3';
  /** `rope_theta`, the base of the inverse frequencies. */
  theta: number;
  /** Leading dimensions of each head that rotate: `int(headDim * partial_rotary_factor)` (even). */
  rotaryDim: number;
  /** `rope_scaling.factor` (`linear`, `llama3`); 1 for `default`. */
  factor: number;
  /** `llama3` only. */
  lowFreqFactor?: number;
  /** `llama3` only. */
  highFreqFactor?: number;
  /** `llama3` only: `rope_scaling.original_max_position_embeddings`. */
  originalMaxPositionEmbeddings?: number;
}

/** Which linear layers carry a bias vector. */
export interface BiasConfig {
  q: boolean;
  k: boolean;
  v: boolean;
  o: boolean;
  /** gate, up and down projections (Llama `mlp_bias`). */
  mlp: boolean;
}

/** A decoder config, resolved with Hugging Face transformers' defaults. */
export interface ModelConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  rope: RopeConfig;
  bias: BiasConfig;
  /** Qwen3: RMSNorm over each head of q and k before RoPE (`q_norm`, `k_norm`). */
  qkNorm: boolean;
  bosTokenId: number | null;
  /** `eos_token_id` as a list (it may be a number or a list in config.json). */
  eosTokenIds: number[];
  padTokenId: number | null;
  /** `torch_dtype` / `dtype` as written (e.g. `bfloat16`), or null. */
  torchDtype: string | null;
  /** The parsed config.json, kept so that writing it back loses no key. */
  raw: Readonly<Record<string, unknown>>;
}

type Json = Record<string, unknown>;

function fail(file: string, key: string, problem: string): never {
  throw new MasaError('MODEL_LOAD_FAILED', `${file}: ${key} ${problem}`, { details: { file, key } });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(json: Json, key: string, file: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (value === undefined || value === null) fail(file, `"${key}"`, 'is missing: add it (a positive integer)');
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail(file, `"${key}"`, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveNumber(json: Json, key: string, file: string, fallback: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(file, `"${key}"`, `must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function flag(json: Json, key: string, file: string, fallback: boolean): boolean {
  const value = json[key] ?? fallback;
  if (typeof value !== 'boolean') fail(file, `"${key}"`, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function tokenId(json: Json, key: string, file: string, fallback: number | null): number | null {
  const value = json[key] === undefined ? fallback : json[key];
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    fail(file, `"${key}"`, `must be a token id (integer ≥ 0) or null, got ${JSON.stringify(value)}`);
  }
  return value;
}

const DEFAULTS: Readonly<
  Record<
    Architecture,
    { headDim: number | null; maxPositionEmbeddings: number; bosTokenId: number | null; eosTokenId: number | null }
  >
> = {
  // transformers' Qwen3Config: head_dim = 128 (not hidden/heads) when absent.
  qwen3: { headDim: 128, maxPositionEmbeddings: 32768, bosTokenId: null, eosTokenId: null },
  // Qwen2Config has no head_dim field: the attention uses hidden_size // num_attention_heads.
  qwen2: { headDim: null, maxPositionEmbeddings: 32768, bosTokenId: null, eosTokenId: null },
  // LlamaConfig: head_dim = hidden_size // num_attention_heads when absent; bos 1, eos 2.
  llama: { headDim: null, maxPositionEmbeddings: 2048, bosTokenId: 1, eosTokenId: 2 },
};

function parseRope(json: Json, file: string, headDim: number): RopeConfig {
  // transformers ≥ 5 writes `rope_parameters` (theta and scaling in one object); earlier
  // versions write `rope_theta` at the top level and `rope_scaling` (or null).
  const parameters = json['rope_parameters'];
  const scalingRaw = isObject(parameters) ? parameters : json['rope_scaling'];
  const scalingKey = isObject(parameters) ? 'rope_parameters' : 'rope_scaling';
  const scaling: Json = isObject(scalingRaw) ? scalingRaw : {};
  if (scalingRaw !== undefined && scalingRaw !== null && !isObject(scalingRaw)) {
    fail(file, `"${scalingKey}"`, `must be an object or null, got ${JSON.stringify(scalingRaw)}`);
  }
  const theta = positiveNumber(
    scaling['rope_theta'] !== undefined ? scaling : json,
    'rope_theta',
    file,
    10000,
  );
  const partial = scaling['partial_rotary_factor'] ?? json['partial_rotary_factor'] ?? 1;
  if (typeof partial !== 'number' || !(partial > 0 && partial <= 1)) {
    fail(file, '"partial_rotary_factor"', `must be a number in (0, 1], got ${JSON.stringify(partial)}`);
  }
  const rotaryDim = Math.floor(headDim * partial);
  if (rotaryDim % 2 !== 0 || rotaryDim === 0) {
    fail(file, '"partial_rotary_factor"', `gives an odd or zero rotary dimension ${rotaryDim} for head_dim ${headDim}`);
  }
  const typeValue = scaling['rope_type'] ?? scaling['type'] ?? 'default';
  if (typeValue === 'default') return { type: 'default', theta, rotaryDim, factor: 1 };
  const number = (key: string): number => {
    const value = scaling[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      fail(file, `"${scalingKey}.${key}"`, `must be a positive number for rope type "${String(typeValue)}", got ${JSON.stringify(value)}`);
    }
    return value;
  };
  if (typeValue === 'linear') return { type: 'linear', theta, rotaryDim, factor: number('factor') };
  if (typeValue === 'llama3') {
    const low = number('low_freq_factor');
    const high = number('high_freq_factor');
    if (high <= low) fail(file, `"${scalingKey}.high_freq_factor"`, `must be greater than low_freq_factor (${low}), got ${high}`);
    const original = number('original_max_position_embeddings');
    if (!Number.isInteger(original)) fail(file, `"${scalingKey}.original_max_position_embeddings"`, 'must be an integer');
    return {
      type: 'llama3',
      theta,
      rotaryDim,
      factor: number('factor'),
      lowFreqFactor: low,
      highFreqFactor: high,
      originalMaxPositionEmbeddings: original,
    };
  }
  return fail(
    file,
    `"${scalingKey}.${scaling['rope_type'] !== undefined ? 'rope_type' : 'type'}"`,
    `is ${JSON.stringify(typeValue)}, which masa-rl does not implement (supported: default, linear, llama3); remove the scaling or convert the model`,
  );
}

/**
 * Resolves a parsed `config.json` the way Hugging Face transformers does (same defaults),
 * and rejects what masa-rl cannot run exactly.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` naming the key and `file`.
 */
export function parseModelConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (!isObject(json)) fail(file, 'top level', 'must be a JSON object');
  const modelType = json['model_type'];
  if (modelType !== 'qwen3' && modelType !== 'qwen2' && modelType !== 'llama') {
    fail(
      file,
      '"model_type"',
      `is ${JSON.stringify(modelType)}; masa-rl runs "qwen3", "qwen2" and "llama" decoders only`,
    );
  }
  const architecture: Architecture = modelType;
  const architectures = json['architectures'];
  if (architectures !== undefined && architectures !== null) {
    if (!Array.isArray(architectures) || !architectures.every((entry) => typeof entry === 'string')) {
      fail(file, '"architectures"', 'must be a list of class names');
    }
    const unknown = architectures.filter((entry) => entry !== ARCHITECTURE_CLASS[architecture]);
    if (unknown.length > 0) {
      fail(
        file,
        '"architectures"',
        `lists ${JSON.stringify(unknown)}; for model_type "${architecture}" only "${ARCHITECTURE_CLASS[architecture]}" is supported`,
      );
    }
  }
  const defaults = DEFAULTS[architecture];
  const hiddenSize = positiveInt(json, 'hidden_size', file);
  const numHeads = positiveInt(json, 'num_attention_heads', file);
  const numKvHeads = positiveInt(json, 'num_key_value_heads', file, numHeads);
  if (numHeads % numKvHeads !== 0) {
    fail(file, '"num_key_value_heads"', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  }
  const headDimRaw = json['head_dim'];
  let headDim: number;
  if (headDimRaw === undefined || headDimRaw === null) {
    if (defaults.headDim !== null) headDim = defaults.headDim;
    else {
      if (hiddenSize % numHeads !== 0) {
        fail(file, '"hidden_size"', `(${hiddenSize}) must be a multiple of num_attention_heads (${numHeads}) when head_dim is absent`);
      }
      headDim = hiddenSize / numHeads;
    }
  } else headDim = positiveInt(json, 'head_dim', file);

  const hiddenAct = json['hidden_act'] ?? 'silu';
  if (hiddenAct !== 'silu') fail(file, '"hidden_act"', `is ${JSON.stringify(hiddenAct)}; only "silu" (SwiGLU) is supported`);

  if (architecture !== 'llama') {
    const useSliding = flag(json, 'use_sliding_window', file, false);
    const numLayers = positiveInt(json, 'num_hidden_layers', file);
    const maxWindowLayers = json['max_window_layers'] ?? 28;
    const layerTypes = json['layer_types'];
    const slidingWindow = json['sliding_window'] ?? 4096;
    const slidingByFlag =
      useSliding && slidingWindow !== null && typeof maxWindowLayers === 'number' && maxWindowLayers < numLayers;
    const slidingByList = Array.isArray(layerTypes) && layerTypes.some((entry) => entry === 'sliding_attention');
    if (slidingByFlag || slidingByList) {
      fail(
        file,
        slidingByList ? '"layer_types"' : '"use_sliding_window"',
        'enables sliding-window attention, which masa-rl does not implement; set "use_sliding_window": false',
      );
    }
  }
  if (Array.isArray(json['layer_types']) && json['layer_types'].some((entry) => entry !== 'full_attention')) {
    fail(file, '"layer_types"', 'lists a layer type other than "full_attention", which masa-rl does not implement');
  }

  const attentionBias = flag(json, 'attention_bias', file, false);
  const bias: BiasConfig =
    architecture === 'qwen2'
      ? { q: true, k: true, v: true, o: false, mlp: false } // Qwen2Attention hard-codes these
      : {
          q: attentionBias,
          k: attentionBias,
          v: attentionBias,
          o: attentionBias,
          mlp: architecture === 'llama' ? flag(json, 'mlp_bias', file, false) : false,
        };

  const eosRaw = json['eos_token_id'] === undefined ? defaults.eosTokenId : json['eos_token_id'];
  let eosTokenIds: number[];
  if (eosRaw === null) eosTokenIds = [];
  else if (typeof eosRaw === 'number' && Number.isInteger(eosRaw) && eosRaw >= 0) eosTokenIds = [eosRaw];
  else if (Array.isArray(eosRaw) && eosRaw.every((id) => typeof id === 'number' && Number.isInteger(id) && id >= 0)) {
    eosTokenIds = eosRaw as number[];
  } else fail(file, '"eos_token_id"', `must be a token id or a list of them, got ${JSON.stringify(eosRaw)}`);

  const dtypeRaw = json['torch_dtype'] ?? json['dtype'] ?? null;
  const maxPositionEmbeddings = positiveInt(json, 'max_position_embeddings', file, defaults.maxPositionEmbeddings);
  const config: ModelConfig = {
    architecture,
    vocabSize: positiveInt(json, 'vocab_size', file),
    hiddenSize,
    intermediateSize: positiveInt(json, 'intermediate_size', file),
    numLayers: positiveInt(json, 'num_hidden_layers', file),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: positiveNumber(json, 'rms_norm_eps', file, 1e-6),
    tieWordEmbeddings: flag(json, 'tie_word_embeddings', file, false),
    maxPositionEmbeddings,
    rope: parseRope(json, file, headDim),
    bias,
    qkNorm: architecture === 'qwen3',
    bosTokenId: tokenId(json, 'bos_token_id', file, defaults.bosTokenId),
    eosTokenIds,
    padTokenId: tokenId(json, 'pad_token_id', file, null),
    torchDtype: typeof dtypeRaw === 'string' ? dtypeRaw : null,
    raw: json,
  };
  return config;
}

/**
 * Reads and resolves `<modelDir>/config.json`.
 *
 * @throws MasaError `MODEL_LOAD_FAILED` when the file is missing, is not JSON, or is unsupported.
 */
export async function readModelConfig(modelDir: string): Promise<ModelConfig> {
  const file = join(modelDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MasaError('MODEL_LOAD_FAILED', `cannot read ${file}: pass a Hugging Face model folder that contains config.json`, {
      cause: error,
      details: { file },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MasaError('MODEL_LOAD_FAILED', `${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  return parseModelConfig(json, file);
}

/**
 * Inverse rotary frequencies `inv_freq[i]` for i < rotaryDim/2, in float64, as transformers
 * computes them: `1 / theta^(2i/rotaryDim)`, then divided by `factor` (`linear`), or
 * smoothed per wavelength (`llama3`).
 */
export function computeInverseFrequencies(rope: RopeConfig): Float64Array {
  const half = rope.rotaryDim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const base = 1 / rope.theta ** ((2 * i) / rope.rotaryDim);
    if (rope.type === 'default') out[i] = base;
    else if (rope.type === 'linear') out[i] = base / rope.factor;
    else {
      const low = rope.lowFreqFactor as number;
      const high = rope.highFreqFactor as number;
      const context = rope.originalMaxPositionEmbeddings as number;
      const wavelength = (2 * Math.PI) / base;
      if (wavelength < context / high) out[i] = base;
      else if (wavelength > context / low) out[i] = base / rope.factor;
      else {
        const smooth = (context / wavelength - low) / (high - low);
        out[i] = (1 - smooth) * (base / rope.factor) + smooth * base;
      }
    }
  }
  return out;
}

/** Options of {@link createModelConfigJson}. */
export interface ModelConfigJsonOptions {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** @default false */
  tieWordEmbeddings?: boolean;
  /** @default 1e-6 */
  rmsNormEps?: number;
  /** @default 1_000_000 for qwen3/qwen2, 500_000 for llama */
  ropeTheta?: number;
  /** Llama 3.1 style scaling, written as `rope_scaling`. @default none */
  ropeScaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };
  /** @default 4096 */
  maxPositionEmbeddings?: number;
  /** @default 1 (bos) / 2 (eos) for llama, null / the last token for qwen */
  bosTokenId?: number | null;
  eosTokenId?: number | number[] | null;
  padTokenId?: number | null;
  /** `torch_dtype`: the dtype of the weights file. @default 'float32' */
  torchDtype?: 'float32' | 'float16' | 'bfloat16' | 'float64';
}

/** A `config.json` object in the form transformers 4.x writes for a Qwen3 / Qwen2 / Llama model. */
export function createModelConfigJson(options: ModelConfigJsonOptions): Record<string, unknown> {
  const {
    architecture,
    tieWordEmbeddings = false,
    rmsNormEps = 1e-6,
    ropeTheta = architecture === 'llama' ? 500_000 : 1_000_000,
    maxPositionEmbeddings = 4096,
    torchDtype = 'float32',
  } = options;
  const json: Record<string, unknown> = {
    architectures: [ARCHITECTURE_CLASS[architecture]],
    model_type: architecture,
    vocab_size: options.vocabSize,
    hidden_size: options.hiddenSize,
    intermediate_size: options.intermediateSize,
    num_hidden_layers: options.numLayers,
    num_attention_heads: options.numHeads,
    num_key_value_heads: options.numKvHeads,
    head_dim: options.headDim,
    hidden_act: 'silu',
    max_position_embeddings: maxPositionEmbeddings,
    rms_norm_eps: rmsNormEps,
    rope_theta: ropeTheta,
    rope_scaling: options.ropeScaling
      ? {
          rope_type: 'llama3',
          factor: options.ropeScaling.factor,
          low_freq_factor: options.ropeScaling.lowFreqFactor,
          high_freq_factor: options.ropeScaling.highFreqFactor,
          original_max_position_embeddings: options.ropeScaling.originalMaxPositionEmbeddings,
        }
      : null,
    tie_word_embeddings: tieWordEmbeddings,
    attention_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    torch_dtype: torchDtype,
    bos_token_id: options.bosTokenId !== undefined ? options.bosTokenId : architecture === 'llama' ? 1 : null,
    eos_token_id: options.eosTokenId !== undefined ? options.eosTokenId : architecture === 'llama' ? 2 : options.vocabSize - 1,
  };
  if (options.padTokenId !== undefined) json['pad_token_id'] = options.padTokenId;
  if (architecture === 'llama') {
    json['attention_bias'] = false;
    json['mlp_bias'] = false;
  } else {
    json['use_sliding_window'] = false;
    json['sliding_window'] = null;
    json['max_window_layers'] = options.numLayers;
    if (architecture === 'qwen3') json['attention_bias'] = false;
  }
  return json;
}
