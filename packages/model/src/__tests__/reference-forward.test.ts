import { createRng } from '@masa-rl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../checkpoint.js';
import { parseModelConfig } from '../config.js';
import { referenceForward, referenceInverseFrequencies } from './reference-forward.js';
import { relativeError, tempDir, tinyModel } from './helpers.js';

// Checks of the oracle itself, by properties that do not depend on how it is written.

let dir: { path: string; cleanup: () => Promise<void> };
let qwen3: LoadedModel;
let llamaGqa: LoadedModel;
beforeAll(async () => {
  dir = await tempDir('reference');
  qwen3 = await tinyModel(dir.path, 'qwen3', { architecture: 'qwen3', seed: 'ref-qwen3', ropeTheta: 10000 });
  llamaGqa = await tinyModel(dir.path, 'llama', { architecture: 'llama', seed: 'ref-llama', ropeTheta: 10000 });
});
afterAll(async () => {
  await dir.cleanup();
});

describe('reference forward pass', () => {
  it('depends on relative positions only (RoPE): shifting every position leaves the logits unchanged', () => {
    const rng = createRng('shift');
    const tokens = Array.from({ length: 6 }, () => rng.int(0, 63));
    const base = referenceForward(qwen3.config, qwen3.weights, tokens);
    const shifted = referenceForward(qwen3.config, qwen3.weights, tokens, tokens.map((_, t) => t + 37));
    for (let t = 0; t < tokens.length; t++) expect(relativeError(shifted.logits[t] as number[], base.logits[t] as number[])).toBeLessThan(1e-11);
    // …while changing relative positions does change them.
    const spread = referenceForward(qwen3.config, qwen3.weights, tokens, tokens.map((_, t) => 2 * t));
    expect(relativeError(spread.logits[5] as number[], base.logits[5] as number[])).toBeGreaterThan(1e-4);
  });

  it('GQA equals multi-head attention with each kv head repeated (repeat_kv)', () => {
    const { config, weights } = llamaGqa;
    const mhaConfig = parseModelConfig({ ...config.raw, num_key_value_heads: config.numHeads });
    const group = config.numHeads / config.numKvHeads;
    const expanded = new Map(weights);
    const rowSize = config.hiddenSize * config.headDim;
    for (let layer = 0; layer < config.numLayers; layer++) {
      for (const module of ['k_proj', 'v_proj']) {
        const name = `model.layers.${layer}.self_attn.${module}.weight`;
        const source = weights.get(name) as Float64Array;
        const out = new Float64Array(config.numHeads * rowSize);
        for (let head = 0; head < config.numHeads; head++) out.set(source.subarray(Math.floor(head / group) * rowSize, (Math.floor(head / group) + 1) * rowSize), head * rowSize);
        expanded.set(name, out);
      }
    }
    const tokens = [5, 9, 1, 33, 2];
    const gqa = referenceForward(config, weights, tokens);
    const mha = referenceForward(mhaConfig, expanded, tokens);
    for (let t = 0; t < tokens.length; t++) expect(relativeError(mha.logits[t] as number[], gqa.logits[t] as number[])).toBeLessThan(1e-12);
  });

  it('a one-token sequence attends only to itself: the output equals a hand-built pass with attention = v', () => {
    // With T = 1 the softmax is [1], so attention(x) = v. Rebuild layer 0..L by hand for token 7.
    const { config, weights } = llamaGqa;
    const w = (name: string): Float64Array => weights.get(name) as Float64Array;
    const matVec = (m: Float64Array, x: number[], rows: number): number[] =>
      Array.from({ length: rows }, (_, r) => x.reduce((s, v, c) => s + (m[r * x.length + c] as number) * v, 0));
    const norm = (x: number[], g: Float64Array): number[] => {
      const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + config.rmsNormEps);
      return x.map((v, i) => (v / rms) * (g[i] as number));
    };
    let x = Array.from(w('model.embed_tokens.weight').subarray(7 * 16, 8 * 16));
    for (let layer = 0; layer < config.numLayers; layer++) {
      const p = `model.layers.${layer}`;
      const v = matVec(w(`${p}.self_attn.v_proj.weight`), norm(x, w(`${p}.input_layernorm.weight`)), config.numKvHeads * config.headDim);
      const attention: number[] = [];
      for (let head = 0; head < config.numHeads; head++) {
        const kv = Math.floor(head / (config.numHeads / config.numKvHeads));
        attention.push(...v.slice(kv * config.headDim, (kv + 1) * config.headDim));
      }
      x = x.map((value, i) => value + (matVec(w(`${p}.self_attn.o_proj.weight`), attention, 16)[i] as number));
      const h = norm(x, w(`${p}.post_attention_layernorm.weight`));
      const gate = matVec(w(`${p}.mlp.gate_proj.weight`), h, config.intermediateSize);
      const up = matVec(w(`${p}.mlp.up_proj.weight`), h, config.intermediateSize);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
      x = x.map((value, i) => value + (matVec(w(`${p}.mlp.down_proj.weight`), act, 16)[i] as number));
    }
    const logits = matVec(w('lm_head.weight'), norm(x, w('model.norm.weight')), config.vocabSize);
    expect(relativeError(referenceForward(config, weights, [7]).logits[0] as number[], logits)).toBeLessThan(1e-12);
  });

  it('llama3 inverse frequencies match values worked out by hand', () => {
    const config = parseModelConfig({
      model_type: 'llama',
      vocab_size: 4,
      hidden_size: 8,
      intermediate_size: 4,
      num_hidden_layers: 1,
      num_attention_heads: 1,
      rope_theta: 10000,
      rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 1000 },
    });
    // d = 8: base 1, 0.1, 0.01, 0.001 (wavelengths 6.3, 63, 628, 6283 vs thresholds 250 and 1000).
    const inv = referenceInverseFrequencies(config);
    expect(inv[0]).toBeCloseTo(1, 14);
    expect(inv[1]).toBeCloseTo(0.1, 14);
    expect(inv[2]).toBeCloseTo(0.0029753524, 9);
    expect(inv[3]).toBeCloseTo(0.000125, 14);
  });
});
