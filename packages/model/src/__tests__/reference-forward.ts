/**
 * A plain float64 decoder forward pass with Hugging Face transformers' semantics, written
 * independently of the graph code so that it can serve as the oracle in tests:
 *
 * - RMSNorm: x · 1/sqrt(mean(x²) + eps) · w
 * - RoPE: rotate-half over the first `rotaryDim` dims, inv_freq = 1/theta^(2i/d), with the
 *   `linear` and `llama3` rescalings recomputed here from the config numbers
 * - Qwen3: q_norm / k_norm (RMSNorm over each head) before RoPE; Qwen2: q/k/v biases
 * - GQA: query head h reads kv head floor(h / (heads / kvHeads)) (repeat_kv)
 * - causal softmax attention scaled by 1/sqrt(headDim)
 * - SwiGLU MLP: down(silu(gate(x)) · up(x))
 *
 * Slow and simple on purpose: arrays of rows, no typed-array tricks.
 */
import type { ModelConfig } from '../config.js';

export type ReferenceWeights = ReadonlyMap<string, Float64Array | Float32Array>;

function weight(weights: ReferenceWeights, name: string): Float64Array | Float32Array {
  const w = weights.get(name);
  if (w === undefined) throw new Error(`reference: missing weight ${name}`);
  return w;
}

/** y = W x (+ b) for W stored row-major [out, in]. */
function linear(x: readonly number[], w: Float64Array | Float32Array, out: number, b?: Float64Array | Float32Array): number[] {
  const inDim = x.length;
  const y = new Array<number>(out).fill(0);
  for (let o = 0; o < out; o++) {
    let sum = b === undefined ? 0 : (b[o] as number);
    for (let i = 0; i < inDim; i++) sum += (w[o * inDim + i] as number) * (x[i] as number);
    y[o] = sum;
  }
  return y;
}

function rmsNorm(x: readonly number[], w: Float64Array | Float32Array, eps: number): number[] {
  let meanSquare = 0;
  for (const v of x) meanSquare += v * v;
  meanSquare /= x.length;
  const scale = 1 / Math.sqrt(meanSquare + eps);
  return x.map((v, i) => v * scale * (w[i] as number));
}

/** inv_freq per HF modeling_rope_utils, recomputed from the raw numbers. */
export function referenceInverseFrequencies(config: ModelConfig): number[] {
  const { rope } = config;
  const d = rope.rotaryDim;
  const result: number[] = [];
  for (let i = 0; i < d; i += 2) {
    const f = Math.pow(rope.theta, -i / d);
    if (rope.type === 'default') result.push(f);
    else if (rope.type === 'linear') result.push(f / rope.factor);
    else {
      const oldContext = rope.originalMaxPositionEmbeddings as number;
      const lowWavelength = oldContext / (rope.lowFreqFactor as number);
      const highWavelength = oldContext / (rope.highFreqFactor as number);
      const wavelength = (2 * Math.PI) / f;
      let scaled = wavelength > lowWavelength ? f / rope.factor : f;
      const isMedium = !(wavelength < highWavelength) && !(wavelength > lowWavelength);
      if (isMedium) {
        const smooth = (oldContext / wavelength - (rope.lowFreqFactor as number)) / ((rope.highFreqFactor as number) - (rope.lowFreqFactor as number));
        scaled = ((1 - smooth) * scaled) / rope.factor + smooth * scaled;
      }
      result.push(scaled);
    }
  }
  return result;
}

/** Applies rotate-half RoPE to one head vector at `position`. */
function rope(x: readonly number[], position: number, inverseFrequencies: readonly number[]): number[] {
  const half = inverseFrequencies.length;
  const out = [...x];
  for (let i = 0; i < half; i++) {
    const angle = position * (inverseFrequencies[i] as number);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const a = x[i] as number;
    const b = x[i + half] as number;
    // q·cos + rotate_half(q)·sin with rotate_half(q) = [-q2, q1]
    out[i] = a * c - b * s;
    out[i + half] = b * c + a * s;
  }
  return out;
}

const silu = (v: number): number => v / (1 + Math.exp(-v));

/** Result of {@link referenceForward}. */
export interface ReferenceOutput {
  /** logits[t][v] for every position t. */
  logits: number[][];
  /** Per layer: keys[t][kvHead][d] after RoPE (what a KV cache holds). */
  keys: number[][][][];
  /** Per layer: values[t][kvHead][d]. */
  values: number[][][][];
}

/**
 * Runs the model on one unpadded sequence. `positions` default to 0..T-1.
 */
export function referenceForward(
  config: ModelConfig,
  weights: ReferenceWeights,
  tokens: readonly number[],
  positions: readonly number[] = tokens.map((_, t) => t),
): ReferenceOutput {
  const { hiddenSize: hidden, numHeads, numKvHeads, headDim, intermediateSize, vocabSize, rmsNormEps: eps } = config;
  const inverseFrequencies = referenceInverseFrequencies(config);
  const groupSize = numHeads / numKvHeads;
  const embed = weight(weights, 'model.embed_tokens.weight');
  let xs: number[][] = tokens.map((token) => Array.from(embed.subarray(token * hidden, (token + 1) * hidden)));
  const allKeys: number[][][][] = [];
  const allValues: number[][][][] = [];
  const optional = (name: string): Float64Array | Float32Array | undefined => weights.get(name);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const qs: number[][][] = [];
    const ks: number[][][] = [];
    const vs: number[][][] = [];
    for (const [t, x] of xs.entries()) {
      const h = rmsNorm(x, weight(weights, `${p}.input_layernorm.weight`), eps);
      const q = linear(h, weight(weights, `${p}.self_attn.q_proj.weight`), numHeads * headDim, optional(`${p}.self_attn.q_proj.bias`));
      const k = linear(h, weight(weights, `${p}.self_attn.k_proj.weight`), numKvHeads * headDim, optional(`${p}.self_attn.k_proj.bias`));
      const v = linear(h, weight(weights, `${p}.self_attn.v_proj.weight`), numKvHeads * headDim, optional(`${p}.self_attn.v_proj.bias`));
      const split = (flat: number[], heads: number): number[][] =>
        Array.from({ length: heads }, (_, head) => flat.slice(head * headDim, (head + 1) * headDim));
      let qHeads = split(q, numHeads);
      let kHeads = split(k, numKvHeads);
      if (config.qkNorm) {
        qHeads = qHeads.map((head) => rmsNorm(head, weight(weights, `${p}.self_attn.q_norm.weight`), eps));
        kHeads = kHeads.map((head) => rmsNorm(head, weight(weights, `${p}.self_attn.k_norm.weight`), eps));
      }
      const position = positions[t] as number;
      qs.push(qHeads.map((head) => rope(head, position, inverseFrequencies)));
      ks.push(kHeads.map((head) => rope(head, position, inverseFrequencies)));
      vs.push(split(v, numKvHeads));
    }
    allKeys.push(ks);
    allValues.push(vs);
    const next: number[][] = [];
    for (const [t, x] of xs.entries()) {
      const attention: number[] = [];
      for (let head = 0; head < numHeads; head++) {
        const kvHead = Math.floor(head / groupSize);
        const query = (qs[t] as number[][])[head] as number[];
        const scores: number[] = [];
        for (let j = 0; j <= t; j++) {
          const key = (ks[j] as number[][])[kvHead] as number[];
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += (query[d] as number) * (key[d] as number);
          scores.push(dot / Math.sqrt(headDim));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let d = 0; d < headDim; d++) {
          let sum = 0;
          for (let j = 0; j <= t; j++) sum += ((exps[j] as number) / total) * (((vs[j] as number[][])[kvHead] as number[])[d] as number);
          attention.push(sum);
        }
      }
      const o = linear(attention, weight(weights, `${p}.self_attn.o_proj.weight`), hidden, optional(`${p}.self_attn.o_proj.bias`));
      const afterAttention = x.map((value, i) => value + (o[i] as number));
      const h2 = rmsNorm(afterAttention, weight(weights, `${p}.post_attention_layernorm.weight`), eps);
      const gate = linear(h2, weight(weights, `${p}.mlp.gate_proj.weight`), intermediateSize, optional(`${p}.mlp.gate_proj.bias`));
      const up = linear(h2, weight(weights, `${p}.mlp.up_proj.weight`), intermediateSize, optional(`${p}.mlp.up_proj.bias`));
      const act = gate.map((g, i) => silu(g) * (up[i] as number));
      const down = linear(act, weight(weights, `${p}.mlp.down_proj.weight`), hidden, optional(`${p}.mlp.down_proj.bias`));
      next.push(afterAttention.map((value, i) => value + (down[i] as number)));
    }
    xs = next;
  }
  const head = config.tieWordEmbeddings ? embed : weight(weights, 'lm_head.weight');
  const logits = xs.map((x) => linear(rmsNorm(x, weight(weights, 'model.norm.weight'), eps), head, vocabSize));
  return { logits, keys: allKeys, values: allValues };
}

/** log softmax of one logit row. */
export function logSoftmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  let total = 0;
  for (const v of row) total += Math.exp(v - max);
  const logTotal = max + Math.log(total);
  return row.map((v) => v - logTotal);
}

/**
 * log p(tokens[t] | tokens[<t]) for t ≥ 1 (length T - 1), and the entropy of each of those
 * predictive distributions.
 */
export function referenceTokenLogProbs(
  config: ModelConfig,
  weights: ReferenceWeights,
  tokens: readonly number[],
): { logProbs: number[]; entropies: number[] } {
  const { logits } = referenceForward(config, weights, tokens);
  const logProbs: number[] = [];
  const entropies: number[] = [];
  for (let t = 1; t < tokens.length; t++) {
    const lp = logSoftmax(logits[t - 1] as number[]);
    logProbs.push(lp[tokens[t] as number] as number);
    entropies.push(-lp.reduce((sum, l) => sum + Math.exp(l) * l, 0));
  }
  return { logProbs, entropies };
}
