import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterAll, describe, expect, it } from 'vitest';
import { computeInverseFrequencies, createModelConfigJson, parseModelConfig, readModelConfig } from './config.js';

// config.json files as published on the Hugging Face Hub (copied by hand).
const QWEN3_0_6B = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: 'qwen3',
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.51.0',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const QWEN2_5_0_5B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const LLAMA_3_2_1B = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: 128001,
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 128256,
};

function expectLoadError(json: unknown, key: string): void {
  let caught: unknown;
  try {
    parseModelConfig(json, '/models/x/config.json');
  } catch (error) {
    caught = error;
  }
  expect(MasaError.hasCode(caught, 'MODEL_LOAD_FAILED')).toBe(true);
  const message = (caught as Error).message;
  expect(message).toContain('/models/x/config.json');
  expect(message).toContain(key);
}

describe('parseModelConfig', () => {
  it('reads Qwen3-0.6B exactly', () => {
    const config = parseModelConfig(QWEN3_0_6B);
    expect(config).toMatchObject({
      architecture: 'qwen3',
      vocabSize: 151936,
      hiddenSize: 1024,
      intermediateSize: 3072,
      numLayers: 28,
      numHeads: 16,
      numKvHeads: 8,
      headDim: 128, // ≠ 1024 / 16 = 64
      rmsNormEps: 1e-6,
      tieWordEmbeddings: true,
      maxPositionEmbeddings: 40960,
      rope: { type: 'default', theta: 1e6, rotaryDim: 128, factor: 1 },
      bias: { q: false, k: false, v: false, o: false, mlp: false },
      qkNorm: true,
      bosTokenId: 151643,
      eosTokenIds: [151645],
      padTokenId: null,
      torchDtype: 'bfloat16',
    });
  });

  it('reads Qwen2.5-0.5B: q/k/v biases, head_dim = hidden / heads', () => {
    const config = parseModelConfig(QWEN2_5_0_5B);
    expect(config.headDim).toBe(64);
    expect(config.bias).toEqual({ q: true, k: true, v: true, o: false, mlp: false });
    expect(config.qkNorm).toBe(false);
    expect(config.numKvHeads).toBe(2);
  });

  it('reads Llama-3.2-1B with llama3 rope scaling', () => {
    const config = parseModelConfig(LLAMA_3_2_1B);
    expect(config.rope).toEqual({
      type: 'llama3',
      theta: 500000,
      rotaryDim: 64,
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    expect(config.rmsNormEps).toBe(1e-5);
  });

  it("applies transformers' defaults when keys are absent", () => {
    const qwen3 = parseModelConfig({
      model_type: 'qwen3',
      vocab_size: 10,
      hidden_size: 64,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 4,
    });
    // Qwen3Config.head_dim defaults to 128, not hidden/heads = 16.
    expect(qwen3.headDim).toBe(128);
    expect(qwen3.numKvHeads).toBe(4);
    expect(qwen3.maxPositionEmbeddings).toBe(32768);
    expect(qwen3.rope).toEqual({ type: 'default', theta: 10000, rotaryDim: 128, factor: 1 });
    expect(qwen3.tieWordEmbeddings).toBe(false);
    expect(qwen3.eosTokenIds).toEqual([]);

    const llama = parseModelConfig({
      model_type: 'llama',
      vocab_size: 10,
      hidden_size: 64,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 4,
    });
    expect(llama.headDim).toBe(16);
    expect(llama.maxPositionEmbeddings).toBe(2048);
    expect(llama.bosTokenId).toBe(1);
    expect(llama.eosTokenIds).toEqual([2]);
    expect(llama.rmsNormEps).toBe(1e-6);
  });

  it('honours attention_bias and mlp_bias on llama, a list of eos ids, and partial rotary', () => {
    const config = parseModelConfig({
      ...LLAMA_3_2_1B,
      attention_bias: true,
      mlp_bias: true,
      eos_token_id: [128001, 128008, 128009],
      rope_scaling: null,
      partial_rotary_factor: 0.5,
    });
    expect(config.bias).toEqual({ q: true, k: true, v: true, o: true, mlp: true });
    expect(config.eosTokenIds).toEqual([128001, 128008, 128009]);
    expect(config.rope).toEqual({ type: 'default', theta: 500000, rotaryDim: 32, factor: 1 });
  });

  it('reads the transformers 5 rope_parameters form', () => {
    const config = parseModelConfig({
      ...QWEN3_0_6B,
      rope_theta: undefined,
      rope_parameters: { rope_type: 'linear', rope_theta: 5000, factor: 4 },
    });
    expect(config.rope).toEqual({ type: 'linear', theta: 5000, rotaryDim: 128, factor: 4 });
  });

  it('rejects unknown models and unsupported settings, naming the key and the file', () => {
    expectLoadError({ ...QWEN3_0_6B, model_type: 'mistral' }, '"model_type"');
    expectLoadError({ ...QWEN3_0_6B, architectures: ['Qwen3ForSequenceClassification'] }, '"architectures"');
    expectLoadError({ ...QWEN3_0_6B, rope_scaling: { rope_type: 'yarn', factor: 4 } }, '"rope_scaling.rope_type"');
    expectLoadError({ ...QWEN3_0_6B, rope_scaling: { type: 'dynamic', factor: 2 } }, '"rope_scaling.type"');
    expectLoadError({ ...QWEN3_0_6B, hidden_act: 'gelu' }, '"hidden_act"');
    expectLoadError({ ...QWEN3_0_6B, use_sliding_window: true, max_window_layers: 20 }, '"use_sliding_window"');
    expectLoadError({ ...QWEN3_0_6B, layer_types: ['sliding_attention'] }, '"layer_types"');
    expectLoadError({ ...QWEN3_0_6B, num_key_value_heads: 3 }, '"num_key_value_heads"');
    expectLoadError({ ...QWEN3_0_6B, hidden_size: undefined }, '"hidden_size"');
    expectLoadError({ ...QWEN3_0_6B, vocab_size: 1.5 }, '"vocab_size"');
    expectLoadError(
      { ...LLAMA_3_2_1B, rope_scaling: { ...LLAMA_3_2_1B.rope_scaling, low_freq_factor: undefined } },
      '"rope_scaling.low_freq_factor"',
    );
    expectLoadError({ ...LLAMA_3_2_1B, head_dim: undefined, hidden_size: 100, num_attention_heads: 32 }, '"hidden_size"');
    expectLoadError([1, 2], 'top level');
  });

  it('accepts use_sliding_window when no layer actually slides (max_window_layers ≥ layers)', () => {
    expect(parseModelConfig({ ...QWEN3_0_6B, use_sliding_window: true, max_window_layers: 28 }).numLayers).toBe(28);
  });

  it('round-trips the config.json it creates', () => {
    const json = createModelConfigJson({
      architecture: 'llama',
      vocabSize: 50,
      hiddenSize: 16,
      intermediateSize: 24,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 8,
      tieWordEmbeddings: true,
      ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
    });
    const config = parseModelConfig(JSON.parse(JSON.stringify(json)));
    expect(config).toMatchObject({ architecture: 'llama', headDim: 8, numKvHeads: 2, tieWordEmbeddings: true });
    expect(config.rope.type).toBe('llama3');
  });
});

describe('computeInverseFrequencies', () => {
  it('default: 1 / theta^(2i/d)', () => {
    const inv = computeInverseFrequencies({ type: 'default', theta: 10000, rotaryDim: 8, factor: 1 });
    expect(Array.from(inv)).toEqual([1, 0.1, 0.01, 0.001].map((x, i) => expect.closeTo(x, 15 - i)));
  });

  it('linear: divided by the factor', () => {
    const inv = computeInverseFrequencies({ type: 'linear', theta: 100, rotaryDim: 4, factor: 4 });
    expect(inv[0]).toBe(0.25);
    expect(inv[1]).toBeCloseTo(0.1 / 4, 15);
  });

  it('llama3: keeps short wavelengths, divides long ones, interpolates between', () => {
    // theta 10^4, d = 8 → base frequencies 1, 0.1, 0.01, 0.001 with wavelengths 2π/f =
    // 6.28, 62.8, 628.3, 6283. Context 1000, low 1, high 4 → thresholds 250 and 1000.
    const inv = computeInverseFrequencies({
      type: 'llama3',
      theta: 10000,
      rotaryDim: 8,
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 1000,
    });
    expect(inv[0]).toBeCloseTo(1, 15);
    expect(inv[1]).toBeCloseTo(0.1, 15);
    const smooth = (1000 / (200 * Math.PI) - 1) / 3; // 0.19718…
    expect(inv[2]).toBeCloseTo(0.01 * ((1 - smooth) / 8 + smooth), 15);
    expect(inv[2]).toBeCloseTo(0.0029753524, 9);
    expect(inv[3]).toBeCloseTo(0.001 / 8, 15);
  });
});

describe('readModelConfig', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('reads a folder, and names the file when it is missing or broken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'masa-config-'));
    dirs.push(dir);
    await expect(readModelConfig(dir)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', details: { file: join(dir, 'config.json') } });
    await writeFile(join(dir, 'config.json'), '{ "model_type": ');
    await expect(readModelConfig(dir)).rejects.toThrow(/config\.json is not valid JSON/);
    await writeFile(join(dir, 'config.json'), JSON.stringify(QWEN3_0_6B));
    expect((await readModelConfig(dir)).numLayers).toBe(28);
  });
});
