/**
 * The decode graph is written here (not taken from @masa-rl/model's decoder), so every variant the config
 * parser accepts is held to the model's own graphs: greedy tokens equal the argmax of the model's full forward
 * pass at every position, and sampled logprobs equal the model's scoring graph.
 */
import type { RolloutResult } from '@masa-rl/core';
import { buildCausalLmGraph, createModelRunner, listParameters } from '@masa-rl/model';
import { createSession, createTensorValue, type TensorValue } from '@masa-rl/onnx';
import { describe, expect, it } from 'vitest';
import { tinyModel, type TinyModelOverrides } from './__tests__/tiny-model.js';
import { createOrtEngine } from './ort-engine.js';

const VARIANTS: Record<string, TinyModelOverrides> = {
  'qwen2 (q/k/v biases, no q/k norm)': { architecture: 'qwen2' },
  'llama with llama3 rope scaling': { architecture: 'llama', ropeScaling: { factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 16 } },
  'llama MHA with attention and mlp biases': { architecture: 'llama', kvHeads: 4, configOverrides: { attention_bias: true, mlp_bias: true } },
  'qwen3 tied, partial rotary': { architecture: 'qwen3', tie: true, configOverrides: { partial_rotary_factor: 0.5 } },
};

describe('decode graph against the model graphs, per architecture and weight mode', () => {
  // 'initializers' joins q/k/v and gate/up into one matrix each (with their biases): checked here per variant.
  for (const [name, overrides] of Object.entries(VARIANTS)) for (const weightMode of ['inputs', 'initializers'] as const) {
    it(`${name}, weights as ${weightMode}`, async () => {
      const { config, weights } = tinyModel(`decode-${name}`, { ...overrides, eosTokenId: 1000 });
      const vocab = config.vocabSize;
      await using engine = createOrtEngine({ config, weights, eosTokenIds: [], maxBatchSize: 3, weightMode });
      await using full = await createSession({ model: buildCausalLmGraph({ config, withPast: false, logits: 'all' }).graph });
      await using scorer = createModelRunner({ config, weights });
      const prompts = [[3, 14, 15, 9, 2, 6], [5, 35], [8, 9, 7, 9]];
      const greedy = await engine.doGenerate(prompts.map((promptTokenIds, i) => ({ id: `g${i}`, promptTokenIds, maxNewTokens: 24, temperature: 0 })));
      const sampled = await engine.doGenerate(prompts.map((promptTokenIds, i) => ({ id: `s${i}`, promptTokenIds, seed: i, maxNewTokens: 24 })));
      let checked = 0;
      const check = async (prompt: number[], result: RolloutResult | undefined, isGreedy: boolean): Promise<void> => {
        const sample = result?.samples[0];
        const tokens = [...prompt, ...(sample?.tokenIds ?? [])];
        const feeds: Record<string, TensorValue> = {
          input_ids: createTensorValue('int64', [1, tokens.length], tokens.map(BigInt)),
          attention_mask: createTensorValue('int64', [1, tokens.length], tokens.map(() => 1n)),
          position_ids: createTensorValue('int64', [1, tokens.length], tokens.map((_, i) => BigInt(i))),
        };
        for (const spec of listParameters(config)) feeds[spec.name] = createTensorValue('float32', spec.shape, weights.get(spec.name) as Float32Array);
        const logits = (await full.run(feeds, { outputs: ['logits'] }))['logits']?.data as Float32Array;
        const { logProbs } = await scorer.tokenLogProbs({ batch: 1, seq: tokens.length, inputIds: BigInt64Array.from(tokens.map(BigInt)), attentionMask: BigInt64Array.from(tokens.map(() => 1n)) });
        sample?.tokenIds.forEach((token, t) => {
          if (isGreedy) {
            const row = Array.from(logits.subarray((prompt.length - 1 + t) * vocab, (prompt.length + t) * vocab));
            const sorted = [...row].sort((a, b) => b - a);
            if ((sorted[0] as number) - (sorted[1] as number) >= 1e-4) {
              expect(token).toBe(row.indexOf(sorted[0] as number));
              checked++;
            }
          } else {
            expect(Math.abs((sample.logprobs[t] as number) - (logProbs[prompt.length + t] as number))).toBeLessThan(1e-5);
            checked++;
          }
        });
      };
      for (const [i, prompt] of prompts.entries()) {
        await check(prompt, greedy[i], true);
        await check(prompt, sampled[i], false);
      }
      expect(checked).toBeGreaterThan(100);
    });
  }
});
