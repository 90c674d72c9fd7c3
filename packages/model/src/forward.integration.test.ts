import { createRng } from '@masa-rl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from './checkpoint.js';
import { createModelRunner } from './model-runner.js';
import type { KvCache } from './model-runner.js';
import { leftPadBatch } from './token-batch.js';
import { referenceForward } from './__tests__/reference-forward.js';
import { relativeError, tempDir, tinyModel } from './__tests__/helpers.js';

let dir: { path: string; cleanup: () => Promise<void> };
const models: Record<string, LoadedModel> = {};

// Every family and option the config parser accepts, each as a tiny float64 model.
const VARIANTS = {
  qwen3: { architecture: 'qwen3', seed: 'qwen3' },
  'qwen3 tied, partial rotary, linear rope': {
    architecture: 'qwen3',
    seed: 'qwen3-partial',
    tie: true,
    configOverrides: { partial_rotary_factor: 0.5, rope_scaling: { rope_type: 'linear', factor: 2 } },
  },
  qwen2: { architecture: 'qwen2', seed: 'qwen2', ropeTheta: 10000 },
  'llama with llama3 rope scaling': {
    architecture: 'llama',
    seed: 'llama',
    ropeTheta: 10000,
    // Short context so the test positions reach all three frequency bands.
    ropeScaling: { factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 },
  },
  'llama with attention and mlp biases, MHA': {
    architecture: 'llama',
    seed: 'llama-bias',
    kvHeads: 4,
    attentionBias: true,
    configOverrides: { mlp_bias: true },
  },
} as const;

beforeAll(async () => {
  dir = await tempDir('forward');
  for (const [name, options] of Object.entries(VARIANTS)) models[name] = await tinyModel(dir.path, name.replace(/[^a-z0-9]+/g, '-'), options);
});
afterAll(async () => {
  await dir.cleanup();
});

const TOLERANCE = 1e-9;

for (const name of Object.keys(VARIANTS)) {
  describe(`${name} (float64)`, () => {
    it('prefill logits and KV cache equal the plain-TS reference; decode steps equal the full forward pass', async () => {
      const model = models[name] as LoadedModel;
      const { config, weights } = model;
      const rng = createRng(`tokens-${name}`);
      const tokens = Array.from({ length: 12 }, () => rng.int(0, config.vocabSize - 1));
      const reference = referenceForward(config, weights, tokens);
      await using runner = createModelRunner({ config, weights });
      expect(runner.dtype).toBe('float64');
      const prompt = 5;
      const padded = leftPadBatch({ sequences: [tokens.slice(0, prompt)] });
      let result = await runner.step(padded);
      expect(relativeError(result.logits, reference.logits[prompt - 1] as number[])).toBeLessThan(TOLERANCE);
      // The cache holds RoPE'd keys and values for every prompt position.
      for (let layer = 0; layer < config.numLayers; layer++) {
        const cached = result.cache.layers[layer] as KvCache['layers'][number];
        expect(cached.key.dims).toEqual([1, config.numKvHeads, prompt, config.headDim]);
        const expectedKeys: number[] = [];
        const expectedValues: number[] = [];
        for (let h = 0; h < config.numKvHeads; h++) {
          for (let t = 0; t < prompt; t++) {
            expectedKeys.push(...(reference.keys[layer]?.[t]?.[h] as number[]));
            expectedValues.push(...(reference.values[layer]?.[t]?.[h] as number[]));
          }
        }
        expect(relativeError(cached.key.data as Float64Array, expectedKeys)).toBeLessThan(TOLERANCE);
        expect(relativeError(cached.value.data as Float64Array, expectedValues)).toBeLessThan(TOLERANCE);
      }
      for (let t = prompt; t < tokens.length; t++) {
        result = await runner.step({
          batch: 1,
          seq: 1,
          inputIds: BigInt64Array.of(BigInt(tokens[t] as number)),
          attentionMask: new BigInt64Array(t + 1).fill(1n),
          positionIds: BigInt64Array.of(BigInt(t)),
          cache: result.cache,
        });
        expect(result.cache.length).toBe(t + 1);
        expect(relativeError(result.logits, reference.logits[t] as number[]), `position ${t}`).toBeLessThan(TOLERANCE);
      }
    });

    it('a left-padded batch equals each row run alone, through prefill and two decode steps', async () => {
      const model = models[name] as LoadedModel;
      const { config, weights } = model;
      const rng = createRng(`batch-${name}`);
      const rows = [7, 4, 1].map((length) => Array.from({ length: length + 2 }, () => rng.int(0, config.vocabSize - 1)));
      const prompts = rows.map((row) => row.slice(0, -2));
      await using runner = createModelRunner({ config, weights });
      const padded = leftPadBatch({ sequences: prompts, padTokenId: 3 });
      let result = await runner.step(padded);
      const vocab = config.vocabSize;
      let mask = padded.attentionMask;
      for (let step = 0; step <= 2; step++) {
        for (const [b, row] of rows.entries()) {
          const upTo = (prompts[b] as number[]).length + step; // tokens fed so far
          const alone = referenceForward(config, weights, row.slice(0, upTo));
          const got = result.logits.subarray(b * vocab, (b + 1) * vocab);
          expect(relativeError(got, alone.logits[upTo - 1] as number[]), `row ${b} step ${step}`).toBeLessThan(TOLERANCE);
        }
        if (step === 2) break;
        const length = result.cache.length + 1;
        const nextMask = new BigInt64Array(3 * length);
        for (let b = 0; b < 3; b++) {
          nextMask.set(mask.subarray(b * (length - 1), (b + 1) * (length - 1)), b * length);
          nextMask[b * length + length - 1] = 1n;
        }
        mask = nextMask;
        result = await runner.step({
          batch: 3,
          seq: 1,
          inputIds: BigInt64Array.from(rows, (row, b) => BigInt(row[(prompts[b] as number[]).length + step] as number)),
          attentionMask: mask,
          positionIds: BigInt64Array.from(prompts, (prompt) => BigInt(prompt.length + step)),
          cache: result.cache,
        });
      }
    });
  });
}

describe('token log-probabilities', () => {
  it('equal log-softmax of the reference logits, with entropy, for a padded batch', async () => {
    const model = models['qwen3'] as LoadedModel;
    const { config, weights } = model;
    const rng = createRng('scores');
    const rows = [6, 3].map((length) => Array.from({ length }, () => rng.int(0, config.vocabSize - 1)));
    await using runner = createModelRunner({ config, weights });
    const padded = leftPadBatch({ sequences: rows });
    const { logProbs, entropy } = await runner.tokenLogProbs({ ...padded, entropy: true });
    for (const [b, row] of rows.entries()) {
      const { logits } = referenceForward(config, weights, row);
      const offset = padded.seq - row.length;
      for (let t = 1; t < row.length; t++) {
        const logitsRow = logits[t - 1] as number[];
        const max = Math.max(...logitsRow);
        const logTotal = max + Math.log(logitsRow.reduce((s, v) => s + Math.exp(v - max), 0));
        const expected = (logitsRow[row[t] as number] as number) - logTotal;
        const expectedEntropy = -logitsRow.reduce((s, v) => s + Math.exp(v - logTotal) * (v - logTotal), 0);
        const i = b * padded.seq + offset + t;
        expect(Math.abs((logProbs[i] as number) - expected)).toBeLessThan(1e-10 * Math.max(1, Math.abs(expected)));
        expect(Math.abs((entropy?.[i] as number) - expectedEntropy)).toBeLessThan(1e-10);
      }
      // Padding and the first real token have no prediction: exactly 0 (either sign).
      for (let t = 0; t <= offset; t++) {
        expect(Math.abs(logProbs[b * padded.seq + t] as number)).toBe(0);
        expect(Math.abs(entropy?.[b * padded.seq + t] as number)).toBe(0);
      }
    }
  });

  it('weights baked in as initializers give the same logits as weights fed as inputs', async () => {
    const { config, weights } = models['qwen3 tied, partial rotary, linear rope'] as LoadedModel;
    const prompt = leftPadBatch({ sequences: [[4, 8, 15, 16, 23, 42].map((t) => t % config.vocabSize)] });
    await using fed = createModelRunner({ config, weights });
    await using baked = createModelRunner({ config, weights, weightMode: 'initializers' });
    expect(relativeError((await baked.step(prompt)).logits, (await fed.step(prompt)).logits)).toBeLessThan(1e-12);
  });

  it('rejects token ids outside the vocabulary', async () => {
    const { config, weights } = models['qwen2'] as LoadedModel;
    await using runner = createModelRunner({ config, weights });
    await expect(runner.step(leftPadBatch({ sequences: [[1, config.vocabSize]] }))).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
  });
});
