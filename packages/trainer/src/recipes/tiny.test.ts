import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError, createRng } from '@masa-rl/core';
import { arithMetaTarget, arithSplitOf, parseArithProblem } from '@masa-rl/datasets';
import { countParameters, loadModel, loadTokenizer, type Tokenizer } from '@masa-rl/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAR_TOKEN_IDS, writeCharTokenizer } from './char-tokenizer.js';
import { createTinyInitialWeights, createTinyModelConfig, runTinyRecipe, tinyEvaluationProblems, tinyLearningRate } from './tiny.js';
import { createBucketedBatches, createSftExampleStream } from './tiny-sft-data.js';

let dir: string;
let tokenizer: Tokenizer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tiny-recipe-'));
  await writeCharTokenizer({ dir: join(dir, 'tokenizer') });
  tokenizer = await loadTokenizer({ model: join(dir, 'tokenizer') });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny recipe pieces', () => {
  it('builds the 0.57M-parameter Qwen3 shape of TINY-TASK with a 99-token vocabulary and a 320-token context', () => {
    const config = createTinyModelConfig();
    // 99·128 embedding (tied) + 3 layers × (2·128 norms + 128·128 q + 2·64·128 k/v + 128·128 o + 2·32 qk-norms + 3·128·352 MLP) + 128 final norm.
    const perLayer = 2 * 128 + 128 * 128 + 2 * 64 * 128 + 128 * 128 + 2 * 32 + 3 * 128 * 352;
    expect(countParameters(config)).toBe(99 * 128 + 3 * perLayer + 128);
    expect(countParameters(config)).toBe(566_720);
    expect(config).toMatchObject({ numHeads: 4, numKvHeads: 2, headDim: 32, tieWordEmbeddings: true, maxPositionEmbeddings: 320, qkNorm: true });
    expect(config.eosTokenIds).toEqual([98]);
    expect(config.rope.theta).toBe(10_000);
  });

  it('initialises norms to 1, projections with std 0.02 and output projections with 0.02/√6', () => {
    const weights = createTinyInitialWeights(createTinyModelConfig(), 1);
    const std = (array: Float32Array): number => Math.sqrt(array.reduce((sum, x) => sum + x * x, 0) / array.length);
    expect((weights.get('model.norm.weight') as Float32Array).every((x) => x === 1)).toBe(true);
    expect((weights.get('model.layers.2.self_attn.q_norm.weight') as Float32Array).every((x) => x === 1)).toBe(true);
    // 45,056 draws: the sample std is within 2% of the true one with overwhelming probability.
    expect(std(weights.get('model.layers.0.mlp.up_proj.weight') as Float32Array) / 0.02).toBeCloseTo(1, 1);
    expect(std(weights.get('model.layers.1.mlp.down_proj.weight') as Float32Array) / (0.02 / Math.sqrt(6))).toBeCloseTo(1, 1);
    expect(std(weights.get('model.layers.1.self_attn.o_proj.weight') as Float32Array) / (0.02 / Math.sqrt(6))).toBeCloseTo(1, 1);
    expect(createTinyInitialWeights(createTinyModelConfig(), 1).get('model.embed_tokens.weight')).toEqual(weights.get('model.embed_tokens.weight'));
  });

  it('evaluates on exactly the 200 problems of datasets/synthetic/validation.jsonl', async () => {
    const file = new URL('../../../../datasets/synthetic/validation.jsonl', import.meta.url);
    const rows = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; question: string; answer: string });
    const problems = tinyEvaluationProblems();
    expect(problems.map((p) => [p.id, p.question, p.answer])).toEqual(rows.map((row) => [row.id, row.question, row.answer]));
    expect(problems.every((p) => arithSplitOf(p.question) === 'validation')).toBe(true);
  });

  it('warms up linearly, holds the peak, then anneals along a cosine to the final LR', () => {
    const settings = { steps: 1000, peakLr: 2e-3, finalLr: 1e-4, warmupSteps: 100, annealSteps: 200 };
    expect(tinyLearningRate(1, settings)).toBeCloseTo(2e-5, 15);
    expect(tinyLearningRate(50, settings)).toBeCloseTo(1e-3, 15);
    expect(tinyLearningRate(100, settings)).toBeCloseTo(2e-3, 15);
    expect(tinyLearningRate(800, settings)).toBe(2e-3);
    expect(tinyLearningRate(900, settings)).toBeCloseTo(1e-4 + 0.5 * 1.9e-3, 15); // halfway: cos(π/2) = 0
    expect(tinyLearningRate(1000, settings)).toBeCloseTo(1e-4, 15);
  });

  it('streams chat-formatted examples of train-split problems only, ~15% meta, each within 320 tokens and ending with EOS', () => {
    const stream = createSftExampleStream({ rng: createRng(3), tokenizer, metaFraction: 0.15, mix: 'prototype', contextTokens: 320 });
    const n = 1500;
    let meta = 0;
    for (let i = 0; i < n; i++) {
      const example = stream.next();
      expect(arithSplitOf(example.problem)).toBe('train');
      expect(example.promptTokenIds.length + example.responseTokenIds.length).toBeLessThanOrEqual(320);
      expect(example.responseTokenIds.at(-1)).toBe(CHAR_TOKEN_IDS.imEnd);
      const response = tokenizer.decode(example.responseTokenIds.slice(0, -1));
      const prompt = tokenizer.decode(example.promptTokenIds);
      if (example.kind === 'meta') {
        meta += 1;
        expect(prompt).toBe(`<|im_start|>user\nMeta: ${example.problem}\n<|im_end|>\n<|im_start|>assistant\n`);
        expect(response).toBe(arithMetaTarget(parseArithProblem(example.problem)).json);
      } else {
        expect(prompt).toBe(`<|im_start|>user\n${example.problem}\n<|im_end|>\n<|im_start|>assistant\n`);
        expect(response).toMatch(new RegExp(`The answer is \\\\boxed\\{${parseArithProblem(example.problem).answer}\\}\\.$`));
      }
    }
    // Binomial(1500, 0.15): mean 225, sd 13.8; ±5 sd.
    expect(Math.abs(meta - 225)).toBeLessThan(70);
    expect(stream.draws).toBeGreaterThan(n); // some held-out problems were redrawn
  });

  it('cuts sorted pools into batches of similar length, covering every example once', () => {
    let counter = 0;
    const lengths = [5, 1, 9, 3, 7, 2, 8, 4];
    const next = () => {
      const length = lengths[counter % lengths.length] as number;
      counter += 1;
      return { kind: 'solution' as const, problem: String(counter), promptTokenIds: [1], responseTokenIds: new Array<number>(length).fill(2) };
    };
    const batches = createBucketedBatches({ next, rng: createRng(1), batchSize: 2, poolBatches: 4 });
    const seen = Array.from({ length: 4 }, () => batches.next());
    expect(seen.map((batch) => batch.map((example) => example.responseTokenIds.length).sort((a, b) => a - b)).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [1, 2],
      [3, 4],
      [5, 7],
      [8, 9],
    ]);
    expect(new Set(seen.flat().map((example) => example.problem)).size).toBe(8);
  });
});

describe('tiny recipe runs', () => {
  const short = { steps: 24, batchSize: 4, warmupSteps: 8, evaluation: false as const, progressEvery: 4 };

  it('is bit-identical from its seed: two shortened runs write the same model.safetensors', async () => {
    const first = await runTinyRecipe({ ...short, outDir: join(dir, 'run-a') });
    const second = await runTinyRecipe({ ...short, outDir: join(dir, 'run-b') });
    const sha = async (folder: string): Promise<string> =>
      createHash('sha256')
        .update(await readFile(join(folder, 'model.safetensors')))
        .digest('hex');
    expect(await sha(join(dir, 'run-a'))).toBe(first.weightsSha256);
    expect(await sha(join(dir, 'run-b'))).toBe(first.weightsSha256);
    expect(second.weightsSha256).toBe(first.weightsSha256);
    expect((await readdir(join(dir, 'run-a'))).sort()).toEqual([
      'RECIPE.md',
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'recipe.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const recipe = JSON.parse(await readFile(join(dir, 'run-a', 'recipe.json'), 'utf8')) as { weightsSha256: string; settings: { steps: number }; training: { steps: number } };
    expect(recipe.weightsSha256).toBe(first.weightsSha256);
    expect(recipe.training.steps).toBe(24);
    // The folder is a model masa-rl loads, and training moved it off its initialisation.
    const loaded = await loadModel({ modelDir: join(dir, 'run-a') });
    const initial = createTinyInitialWeights(createTinyModelConfig(), 1);
    expect(loaded.weights.get('model.layers.0.mlp.up_proj.weight')).not.toEqual(initial.get('model.layers.0.mlp.up_proj.weight'));
    expect(first.training.lossEma).toBeLessThan(Math.log(99));
    // Another seed gives other weights.
    const other = await runTinyRecipe({ ...short, steps: 2, seed: 2 });
    expect(other.weightsSha256).not.toBe(first.weightsSha256);
    expect(other.outDir).toBeNull();
  });

  it('stops with ABORTED and writes nothing when aborted; rejects bad options', async () => {
    const controller = new AbortController();
    controller.abort();
    const out = join(dir, 'aborted');
    await expect(runTinyRecipe({ ...short, outDir: out, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await readdir(dir)).filter((name) => name.includes('aborted'))).toEqual([]);
    const code = async (options: Parameters<typeof runTinyRecipe>[0]): Promise<string | undefined> =>
      runTinyRecipe(options).then(
        () => undefined,
        (error: unknown) => (MasaError.isInstance(error) ? error.code : 'not a MasaError'),
      );
    expect(await code({ steps: 0 })).toBe('CONFIG_INVALID');
    expect(await code({ steps: 5, minutes: 1 })).toBe('CONFIG_INVALID');
    expect(await code({ steps: 5, peakLr: -1 })).toBe('CONFIG_INVALID');
  });
});
