/**
 * The committed default checkpoint `models/tiny-arith`: its files agree with its recipe record,
 * it loads through the ordinary paths, its recorded evaluation meets issue 8's targets, and it
 * has learned the task (it prefers right answers to wrong ones and ends its turn).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadModel, loadTokenizer } from '@masa-rl/model';
import { createOrtEngine } from '@masa-rl/rollout';
import { describe, expect, it } from 'vitest';
import { createOrtPolicyBackend } from '../ort/ort-policy-backend.js';
import { CHAR_TOKEN_IDS } from './char-tokenizer.js';
import { createTinyModelConfig } from './tiny.js';
import { tinySolutionMessages } from './tiny-sft-data.js';
import type { TinyRecipeResult } from './tiny.js';

const modelDir = fileURLToPath(new URL('../../../../models/tiny-arith/', import.meta.url));

describe('models/tiny-arith', () => {
  it('matches its recipe.json and meets the recorded issue-8 targets', async () => {
    const recipe = JSON.parse(await readFile(`${modelDir}recipe.json`, 'utf8')) as TinyRecipeResult;
    const sha = createHash('sha256')
      .update(await readFile(`${modelDir}model.safetensors`))
      .digest('hex');
    expect(sha).toBe(recipe.weightsSha256);
    const evaluation = recipe.evaluation;
    expect(evaluation).not.toBeNull();
    expect(evaluation?.problems).toBe(200);
    expect(evaluation?.samples).toBe(8);
    expect(evaluation?.accuracy).toBeGreaterThanOrEqual(0.3);
    expect(evaluation?.accuracy).toBeLessThanOrEqual(0.75);
    expect(evaluation?.mixedFraction).toBeGreaterThanOrEqual(0.3);
    expect(evaluation?.meta?.parseRate).toBeGreaterThanOrEqual(0.9);
    expect(evaluation?.meta?.passRateMae).toBeGreaterThan(0); // imperfect meta predictions
    expect(evaluation?.passCountHistogram.reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('loads as a Hugging Face folder and prefers right answers to wrong ones', async () => {
    const model = await loadModel({ modelDir });
    const expected = createTinyModelConfig();
    for (const key of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'maxPositionEmbeddings'] as const) {
      expect(model.config[key]).toBe(expected[key]);
    }
    const tokenizer = await loadTokenizer({ model: modelDir });
    await using backend = await createOrtPolicyBackend({ modelDir, keepReference: false });
    const cases = [
      ['Compute 2 + 3.', '2 + 3 = 5. The answer is \\boxed{5}.', '2 + 3 = 6. The answer is \\boxed{6}.'],
      ['Compute 47 + 38.', '47 + 38: 7+8=15 carry 1, 4+3+1=8, so 85. The answer is \\boxed{85}.', '47 + 38: 7+8=15 carry 1, 4+3+1=9, so 95. The answer is \\boxed{95}.'],
      ['Compute 66 * 3.', '66 * 3 = 198. The answer is \\boxed{198}.', '66 * 3 = 188. The answer is \\boxed{188}.'],
    ] as const;
    for (const [problem, right, wrong] of cases) {
      const prompt = tokenizer.encodeChat(tinySolutionMessages(problem));
      const [good, bad] = await backend.logprobs({
        sequences: [right, wrong].map((text) => ({ promptTokenIds: prompt, responseTokenIds: [...tokenizer.encode(text), CHAR_TOKEN_IDS.imEnd] })),
        temperature: 1,
      });
      const total = (values: number[] | undefined): number => (values ?? []).reduce((a, b) => a + b, 0);
      expect(total(good)).toBeGreaterThan(total(bad));
    }
    await using engine = createOrtEngine({ config: model.config, weights: model.weights, tokenizer });
    const [result] = await engine.doGenerate([
      { id: 'greedy', promptTokenIds: tokenizer.encodeChat(tinySolutionMessages('Compute 12 + 7.')), maxNewTokens: 200, topK: 1, seed: 1 },
    ]);
    const sample = result?.samples[0];
    expect(sample?.finishReason).toBe('stop');
    expect(sample?.tokenIds.at(-1)).toBe(CHAR_TOKEN_IDS.imEnd);
    expect(sample?.text).toMatch(/The answer is \\boxed\{\d+\}\.$/);
  });
});
