import { MasaError, type RolloutEvent, type RolloutRequest, type RolloutResult } from '@masa-rl/core';
import { buildCausalLmGraph, createModelRunner, listParameters, type ModelRunner } from '@masa-rl/model';
import { createSession, createTensorValue, type Session, type TensorValue } from '@masa-rl/onnx';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { letterTokenizer, tinyModel, type TinyModel } from './__tests__/tiny-model.js';
import { createOrtEngine, type OrtEngine } from './ort-engine.js';
import type { GenerateOptions } from '@masa-rl/core';

const model: TinyModel = tinyModel('ort-engine');
const { config, weights } = model;
const vocab = config.vocabSize;
let full: Session; // full forward pass, logits at every position (no KV cache)
let scorer: ModelRunner; // the model's scoring graph
const engines: OrtEngine[] = [];

beforeAll(async () => {
  const built = buildCausalLmGraph({ config, withPast: false, logits: 'all' });
  full = await createSession({ model: built.graph });
  scorer = createModelRunner({ config, weights });
});
afterAll(async () => {
  await full.release();
  await scorer.release();
  await Promise.all(engines.map((engine) => engine.close()));
});

function engine(options: Partial<Parameters<typeof createOrtEngine>[0]> = {}): OrtEngine {
  const created = createOrtEngine({ config, weights, tokenizer: letterTokenizer, ...options });
  engines.push(created);
  return created;
}

/** Logits `[seq, vocab]` of the full forward pass over `tokens` (float32, no cache). */
async function fullLogits(tokens: readonly number[]): Promise<Float32Array> {
  const feeds: Record<string, TensorValue> = {
    input_ids: createTensorValue('int64', [1, tokens.length], tokens.map(BigInt)),
    attention_mask: createTensorValue('int64', [1, tokens.length], tokens.map(() => 1n)),
    position_ids: createTensorValue('int64', [1, tokens.length], tokens.map((_, i) => BigInt(i))),
  };
  for (const spec of listParameters(config)) feeds[spec.name] = createTensorValue('float32', spec.shape, weights.get(spec.name) as Float32Array);
  return (await full.run(feeds, { outputs: ['logits'] }))['logits']?.data as Float32Array;
}

/** log p(token | prefix) of every token after the prompt, from the model's scoring graph. */
async function scoringLogprobs(prompt: readonly number[], completion: readonly number[]): Promise<number[]> {
  const tokens = [...prompt, ...completion];
  const { logProbs } = await scorer.tokenLogProbs({
    batch: 1,
    seq: tokens.length,
    inputIds: BigInt64Array.from(tokens.map(BigInt)),
    attentionMask: BigInt64Array.from(tokens.map(() => 1n)),
  });
  return Array.from(logProbs).slice(prompt.length);
}

/** float64 log-softmax of one row after temperature and top-k (the definition, by full sort). */
function referenceLogprob(row: Float32Array, token: number, temperature: number, topK: number): number {
  const values = Array.from(row);
  const order = values.map((_, id) => id).sort((a, b) => (values[b] as number) - (values[a] as number) || a - b);
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const max = values[order[0] as number] as number;
  const total = kept.reduce((sum, id) => sum + Math.exp(((values[id] as number) - max) / temperature), 0);
  return ((values[token] as number) - max) / temperature - Math.log(total);
}

const prompts = [
  [5, 9, 14, 3],
  [40, 2],
  [7, 7, 7, 7, 7, 1, 30],
];

/**
 * Same tokens, text and reasons; logprobs within 1e-5. (float32 sums inside ORT depend on the batch shape and
 * padding, so a sample computed in another batch agrees to ~1e-6, not bit for bit.)
 */
function expectSameSamples(actual: RolloutResult | undefined, expected: RolloutResult | undefined): void {
  expect(actual?.requestId).toBe(expected?.requestId);
  expect(actual?.samples.map(({ tokenIds, text, finishReason }) => ({ tokenIds, text, finishReason }))).toEqual(
    expected?.samples.map(({ tokenIds, text, finishReason }) => ({ tokenIds, text, finishReason })),
  );
  actual?.samples.forEach((sample, index) =>
    sample.logprobs.forEach((value, t) => expect(Math.abs(value - (expected?.samples[index]?.logprobs[t] as number))).toBeLessThan(1e-5)),
  );
}

async function failure(promise: Promise<unknown>): Promise<MasaError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

describe('ORT engine: numerics (acceptance 1)', () => {
  it('greedy picks the argmax of the full forward pass at every position (batched, left-padded prompts)', async () => {
    const results = await engine().doGenerate(prompts.map((promptTokenIds, index) => ({ id: `g${index}`, promptTokenIds, maxNewTokens: 12, temperature: 0, returnRawLogprobs: true })));
    let checked = 0;
    for (const [index, result] of results.entries()) {
      const prompt = prompts[index] as number[];
      const sample = result.samples[0];
      expect(sample?.tokenIds.length).toBeGreaterThan(0);
      const tokens = [...prompt, ...(sample?.tokenIds ?? [])];
      const logits = await fullLogits(tokens);
      for (let t = 0; t < (sample?.tokenIds.length ?? 0); t++) {
        const row = logits.subarray((prompt.length - 1 + t) * vocab, (prompt.length + t) * vocab);
        const sorted = Array.from(row).sort((a, b) => b - a);
        if ((sorted[0] as number) - (sorted[1] as number) < 1e-4) continue; // a near-tie float32 rounding may flip
        expect(sample?.tokenIds[t]).toBe(Array.from(row).indexOf(sorted[0] as number));
        expect(sample?.logprobs[t]).toBe(0);
        checked++;
      }
      // Raw logprobs of the greedy tokens agree with the scoring graph.
      const scored = await scoringLogprobs(prompt, sample?.tokenIds ?? []);
      scored.forEach((value, t) => expect(Math.abs((sample?.rawLogprobs?.[t] as number) - value)).toBeLessThan(1e-5));
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('sampled logprobs equal the scoring graph (T=1, no filter) to 1e-5; filtered ones equal the float64 definition', async () => {
    const plain = await engine().doGenerate([{ id: 'p', promptTokenIds: prompts[0] as number[], n: 3, seed: 11, maxNewTokens: 16, returnRawLogprobs: true }]);
    for (const sample of plain[0]?.samples ?? []) {
      const scored = await scoringLogprobs(prompts[0] as number[], sample.tokenIds);
      expect(scored).toHaveLength(sample.logprobs.length);
      scored.forEach((value, t) => {
        expect(Math.abs((sample.logprobs[t] as number) - value)).toBeLessThan(1e-5);
        expect(Math.abs((sample.rawLogprobs?.[t] as number) - value)).toBeLessThan(1e-5);
      });
    }
    const filtered = await engine().doGenerate([{ id: 'f', promptTokenIds: prompts[2] as number[], n: 2, seed: 3, maxNewTokens: 10, temperature: 0.7, topK: 5, returnRawLogprobs: true }]);
    for (const sample of filtered[0]?.samples ?? []) {
      const prompt = prompts[2] as number[];
      const logits = await fullLogits([...prompt, ...sample.tokenIds]);
      const scored = await scoringLogprobs(prompt, sample.tokenIds);
      sample.tokenIds.forEach((token, t) => {
        const row = logits.subarray((prompt.length - 1 + t) * vocab, (prompt.length + t) * vocab);
        expect(Math.abs((sample.logprobs[t] as number) - referenceLogprob(row, token, 0.7, 5))).toBeLessThan(1e-5);
        expect(Math.abs((sample.rawLogprobs?.[t] as number) - (scored[t] as number))).toBeLessThan(1e-5);
      });
    }
  });

  it('the same seed gives the same samples, whatever shares the batch and however the batch is scheduled', async () => {
    const target: RolloutRequest = { id: 't', promptTokenIds: prompts[1] as number[], n: 3, seed: 99, maxNewTokens: 20, temperature: 1.2, topP: 0.9 };
    const alone = await engine().doGenerate([target]);
    const again = await engine().doGenerate([target]);
    expect(again).toEqual(alone);
    const others: RolloutRequest[] = prompts.map((promptTokenIds, index) => ({ id: `o${index}`, promptTokenIds, n: 2, seed: index, maxNewTokens: 5 + 7 * index }));
    // Mixed with other requests, with a batch of 2 rows (rows leave and join as sequences finish).
    const crowded = await engine({ maxBatchSize: 2 }).doGenerate([...others.slice(0, 2), target, ...others.slice(2)]);
    expectSameSamples(crowded[2], alone[0]);
    const otherSeed = await engine().doGenerate([{ ...target, seed: 100 }]);
    expect(otherSeed[0]?.samples.map((s) => s.tokenIds)).not.toEqual(alone[0]?.samples.map((s) => s.tokenIds));
  });
});

describe('ORT engine: sampling in the graph', () => {
  it('top-k rows sample from the graph\'s TopK output exactly as from the logits, whatever else shares the batch', async () => {
    const target: RolloutRequest = { id: 't', promptTokenIds: prompts[0] as number[], n: 3, seed: 4, maxNewTokens: 16, temperature: 0.9, topK: 12, topP: 0.8 };
    const greedy: RolloutRequest = { id: 'g', promptTokenIds: prompts[1] as number[], maxNewTokens: 16, temperature: 0 };
    const ranked = engine({ eosTokenIds: [] });
    const [alone, greedyAlone] = await ranked.doGenerate([target, greedy]);
    expect(ranked.profile().rankedSteps).toBe(ranked.profile().decodeSteps); // every step: only candidates left ORT
    // A row that needs the whole distribution (raw logprobs; no top-k) makes those steps fetch the logits.
    const mixed = engine({ eosTokenIds: [] });
    const [targetMixed, rawRow, greedyMixed] = await mixed.doGenerate([
      target,
      { id: 'raw', promptTokenIds: prompts[2] as number[], maxNewTokens: 16, topK: 12, returnRawLogprobs: true },
      greedy,
    ]);
    expect(mixed.profile().rankedSteps).toBe(0);
    // Another batch: the same tokens, logprobs within float32 noise of the batch shape (see expectSameSamples).
    expectSameSamples(targetMixed, alone);
    expectSameSamples(greedyMixed, greedyAlone);
    expect(rawRow?.samples[0]?.rawLogprobs).toHaveLength(16);
    // The same batch with the logits fetched: the same float32 logits ranked the same way, so equal to the last bit.
    const fromLogits = engine({ eosTokenIds: [], sampleInGraph: false });
    expect(await fromLogits.doGenerate([target, greedy])).toEqual([alone, greedyAlone]);
    expect(fromLogits.profile().rankedSteps).toBe(0);
  });

  it('whole-distribution rows are drawn in the graph with the JS sampler\'s float64 arithmetic: same tokens, logprobs to 1e-12', async () => {
    const requests: RolloutRequest[] = [
      { id: 'hot', promptTokenIds: prompts[0] as number[], n: 4, seed: 8, maxNewTokens: 24, temperature: 1.3 },
      { id: 'cool', promptTokenIds: prompts[2] as number[], n: 2, seed: 9, maxNewTokens: 24, temperature: 0.6 },
      { id: 'k', promptTokenIds: prompts[1] as number[], n: 2, seed: 10, maxNewTokens: 24, topK: 9 },
    ];
    const inGraph = engine({ eosTokenIds: [] });
    const fromGraph = await inGraph.doGenerate(requests);
    expect(inGraph.profile().rankedSteps).toBe(inGraph.profile().decodeSteps); // no step copied the logits out
    const fromLogits = await engine({ eosTokenIds: [], sampleInGraph: false }).doGenerate(requests);
    for (const [i, result] of fromGraph.entries()) {
      expect(result.samples.map((sample) => sample.tokenIds)).toEqual(fromLogits[i]?.samples.map((sample) => sample.tokenIds));
      result.samples.forEach((sample, s) => {
        sample.logprobs.forEach((logprob, t) => expect(Math.abs(logprob - (fromLogits[i]?.samples[s]?.logprobs[t] as number))).toBeLessThan(1e-12));
      });
    }
  });

  it('a non-finite logit in a decode step falls back to the logits, where the sampler names it', async () => {
    // Weights are read in place: poison one output row once the first token (from the prefill) is out.
    const head = (config.tieWordEmbeddings ? weights.get('model.embed_tokens.weight') : weights.get('lm_head.weight')) as Float32Array;
    const hidden = config.hiddenSize;
    const saved = head.slice(5 * hidden, 6 * hidden);
    for (const request of [
      { id: 'drawn', promptTokenIds: prompts[0] as number[], seed: 1, maxNewTokens: 6 },
      { id: 'ranked', promptTokenIds: prompts[0] as number[], seed: 1, maxNewTokens: 6, topK: 5 },
    ] satisfies RolloutRequest[]) {
      try {
        const poisoned = engine({ eosTokenIds: [] }).doGenerate([request], { onDelta: () => head.fill(Number.NaN, 5 * hidden, 6 * hidden) });
        const error = await failure(poisoned);
        expect(error.code).toBe('NUMERIC_INSTABILITY');
        expect(error.message).toContain('logit 5 is NaN');
      } finally {
        head.set(saved, 5 * hidden);
      }
    }
  });
});

describe('ORT engine: scheduling and stop handling', () => {
  it('cache resizing (growth with rows at different offsets, shrinking after a long row leaves) changes no sample', async () => {
    // Two rows: one long sequence runs while short ones come and go at ever later offsets; the last short one
    // outlives it, so the cache shifts out the dead slots and shrinks under a live row.
    const requests: RolloutRequest[] = [
      { id: 'long', promptTokenIds: prompts[2] as number[], seed: 1, maxNewTokens: 200 },
      ...[30, 7, 43, 50, 20].map((maxNewTokens, i) => ({ id: `short${i}`, promptTokenIds: prompts[i % 2] as number[], seed: 10 + i, maxNewTokens })),
      { id: 'tail', promptTokenIds: prompts[0] as number[], seed: 30, maxNewTokens: 80 },
    ];
    const together = await engine({ maxBatchSize: 2, eosTokenIds: [] }).doGenerate(requests);
    for (const [i, request] of requests.entries()) {
      const [alone] = await engine({ maxBatchSize: 1, eosTokenIds: [] }).doGenerate([request]);
      expectSameSamples(together[i], alone);
    }
  });

  it('finished sequences stop costing compute; waiting ones refill the batch; n samples share one prefill', async () => {
    const created = engine({ maxBatchSize: 2, eosTokenIds: [] });
    const budgets = [3, 9, 1, 6, 4];
    const results = await created.doGenerate(budgets.map((maxNewTokens, index) => ({ id: `b${index}`, promptTokenIds: prompts[index % 3] as number[], seed: index, maxNewTokens })));
    expect(results.map((result) => result.samples[0]?.tokenIds.length)).toEqual(budgets);
    const profile = created.profile();
    // The first token of each sequence comes from its prefill; each later token costs exactly one row-step.
    expect(profile.decodeRowSteps).toBe(budgets.reduce((sum, budget) => sum + budget - 1, 0));
    expect(profile.generatedTokens).toBe(budgets.reduce((a, b) => a + b, 0));
    expect(profile.prefillRuns).toBeGreaterThan(1);
    created.resetProfile();
    await created.doGenerate([{ id: 'n', promptTokenIds: prompts[2] as number[], n: 2, maxNewTokens: 2 }]);
    expect(created.profile().prefillTokens).toBe((prompts[2] as number[]).length); // one prompt row for both samples
  });

  it('stops on EOS and stop strings spanning tokens (text trimmed), reports the budget as cutoff (acceptance 2)', async () => {
    const created = engine({ eosTokenIds: [] });
    const [free] = await created.doGenerate([{ id: 's', promptTokenIds: prompts[0] as number[], seed: 5, maxNewTokens: 30 }]);
    const text = free?.samples[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(4);
    const stop = text.slice(2, 4); // two letters = two tokens: a stop string spanning a token boundary
    const [stopped] = await created.doGenerate([{ id: 's', promptTokenIds: prompts[0] as number[], seed: 5, maxNewTokens: 30, stopStrings: [stop] }]);
    const sample = stopped?.samples[0];
    const at = text.indexOf(stop);
    expect(sample?.finishReason).toBe('stop');
    expect(sample?.text).toBe(text.slice(0, at));
    expect(sample?.tokenIds).toEqual(free?.samples[0]?.tokenIds.slice(0, at + 2));
    const [cut] = await created.doGenerate([{ id: 's', promptTokenIds: prompts[0] as number[], seed: 5, maxNewTokens: 3, budgetIsCutoff: true }]);
    expect(cut?.samples[0]).toMatchObject({ finishReason: 'cutoff', tokenIds: free?.samples[0]?.tokenIds.slice(0, 3), text: text.slice(0, 3) });
    // A stop token id (here: the third sampled token) ends the sample and stays in tokenIds.
    const third = free?.samples[0]?.tokenIds[2] as number;
    const firstAt = free?.samples[0]?.tokenIds.indexOf(third) as number;
    const [eos] = await created.doGenerate([{ id: 's', promptTokenIds: prompts[0] as number[], seed: 5, maxNewTokens: 30, stopTokenIds: [third] }]);
    expect(eos?.samples[0]?.tokenIds).toEqual(free?.samples[0]?.tokenIds.slice(0, firstAt + 1));
    expect(eos?.samples[0]?.text).toBe(text.slice(0, firstAt));
    // The engine's EOS ids (config.json eos_token_id by default) act the same way.
    const [engineEos] = await engine({ eosTokenIds: [third] }).doGenerate([{ id: 's', promptTokenIds: prompts[0] as number[], seed: 5, maxNewTokens: 30 }]);
    expect(engineEos?.samples[0]).toEqual(eos?.samples[0]);
  });

  it('concurrent calls join one running batch and get the same answers as alone; events and deltas add up', async () => {
    const created = engine({ maxBatchSize: 8 });
    const a: RolloutRequest = { id: 'a', promptTokenIds: prompts[0] as number[], n: 2, seed: 1, maxNewTokens: 15 };
    const b: RolloutRequest = { id: 'b', promptTokenIds: prompts[2] as number[], n: 1, seed: 2, maxNewTokens: 8 };
    const events: RolloutEvent[] = [];
    const deltas: number[][] = [[], []];
    const streaming: GenerateOptions = { onEvent: (event) => events.push(event), onDelta: (delta) => deltas[delta.sampleIndex]?.push(...delta.tokenIds) };
    const [first, second] = await Promise.all([
      created.doGenerate([a], streaming),
      created.doGenerate([b]),
    ]);
    expectSameSamples(first?.[0], (await engine().doGenerate([a]))[0]);
    expectSameSamples(second?.[0], (await engine().doGenerate([b]))[0]);
    expect(deltas).toEqual(first?.[0]?.samples.map((sample) => sample.tokenIds));
    expect(events[0]).toEqual({ type: 'generation-start', requests: 1, sequences: 2 });
    expect(events.at(-1)).toMatchObject({ type: 'generation-end', tokens: (first as RolloutResult[])[0]?.samples.reduce((sum, s) => sum + s.tokenIds.length, 0) });
    expect(events.filter((event) => event.type === 'sequence-end')).toHaveLength(2);
  });

  it('aborts a call (ABORTED) and keeps serving; sees in-place weight updates on the next call', async () => {
    const created = engine({ eosTokenIds: [] });
    const controller = new AbortController();
    let tokens = 0;
    const pending = created.doGenerate([{ id: 'long', promptTokenIds: prompts[0] as number[], maxNewTokens: 200 }], {
      signal: controller.signal,
      onEvent: (event: RolloutEvent) => {
        if (event.type === 'tokens-generated') tokens += event.tokens;
        if (tokens >= 3) controller.abort();
      },
    });
    expect((await failure(pending)).code).toBe('ABORTED');
    const request: RolloutRequest = { id: 'w', promptTokenIds: prompts[1] as number[], maxNewTokens: 6, temperature: 0 };
    const before = await created.doGenerate([request]);
    expect(before[0]?.samples[0]?.tokenIds).toHaveLength(6);
    expect(before[0]?.samples[0]?.tokenIds[0]).not.toBe(0);
    // Zero the final norm in place: every hidden state, hence every logit, becomes 0, and greedy takes id 0 (lowest on ties).
    const norm = weights.get('model.norm.weight') as Float32Array;
    const saved = Float32Array.from(norm);
    norm.fill(0);
    try {
      const after = await created.doGenerate([request]);
      expect(after[0]?.samples[0]?.tokenIds).toEqual([0, 0, 0, 0, 0, 0]);
      expect(after[0]?.samples[0]?.logprobs).toEqual([0, 0, 0, 0, 0, 0]);
    } finally {
      norm.set(saved);
    }
  });

  it('two ORT threads per operator: the same seed gives the same samples run after run, and those of one thread to 1e-5', async () => {
    // The embedded checkpoint's shape (hidden 128, head_dim 32): there, with weights fed as inputs, one and two
    // threads round differently (logprobs ~2e-6 apart, measured), so the threads really split the work.
    const wide = tinyModel('ort-engine-threads', { vocabSize: 99, hiddenSize: 128, intermediateSize: 352, headDim: 32, std: 0.1, eosTokenId: 98 });
    const request: RolloutRequest = { id: 'm', promptTokenIds: prompts[2] as number[], n: 4, seed: 8, maxNewTokens: 16, temperature: 1 };
    const twoThreads = (): OrtEngine => engine({ config: wide.config, weights: wide.weights, intraOpNumThreads: 2 });
    const first = twoThreads();
    expect(first.intraOpNumThreads).toBe(2);
    const [a] = await first.doGenerate([request]);
    const [b] = await twoThreads().doGenerate([request]);
    expect(b).toEqual(a);
    const [one] = await engine({ config: wide.config, weights: wide.weights }).doGenerate([request]);
    expectSameSamples(a, one);
  });

  it('frozen weights with a weightsVersion: rebuilt after an in-place update (the samples of fed weights), kept until the version moves', async () => {
    const own = tinyModel('ort-engine-refreeze');
    let version = 0;
    const frozen = engine({ config: own.config, weights: own.weights, weightMode: 'initializers', weightsVersion: () => version });
    const fed = engine({ config: own.config, weights: own.weights });
    const request: RolloutRequest = { id: 'v', promptTokenIds: prompts[0] as number[], n: 3, seed: 4, maxNewTokens: 12, temperature: 1 };
    const [before] = await frozen.doGenerate([request]);
    expectSameSamples(before, (await fed.doGenerate([request]))[0]);
    // An optimiser step in place: the fed engine sees it at once; the frozen one only once the version moves.
    for (const array of own.weights.values()) for (let i = 0; i < array.length; i += 3) array[i] = (array[i] as number) * 0.5 + 0.01;
    const [updated] = await fed.doGenerate([request]);
    expect(updated?.samples.map((s) => s.tokenIds)).not.toEqual(before?.samples.map((s) => s.tokenIds));
    expectSameSamples((await frozen.doGenerate([request]))[0], before);
    expect(frozen.profile().sessionBuilds).toBe(1);
    version += 1;
    expectSameSamples((await frozen.doGenerate([request]))[0], updated);
    expectSameSamples((await frozen.doGenerate([request]))[0], updated);
    expect(frozen.profile().sessionBuilds).toBe(2);
    expect(() => engine({ weightsVersion: () => 0 })).toThrow(/weightsVersion goes with weightMode 'initializers'/);
  });

  it("weightMode 'initializers' (serving) gives the same samples as weights fed as inputs", async () => {
    const request: RolloutRequest = { id: 'i', promptTokenIds: prompts[2] as number[], n: 2, seed: 21, maxNewTokens: 12, topK: 10 };
    const [frozen] = await engine({ weightMode: 'initializers' }).doGenerate([request]);
    const [fed] = await engine().doGenerate([request]);
    expectSameSamples(frozen, fed);
  });

  it('frozen weights past the inline limit travel through an external data file that is removed once loaded (and so are folders a dead process left)', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'ort-engine-external-'));
    try {
      const request: RolloutRequest = { id: 'x', promptTokenIds: prompts[0] as number[], n: 3, seed: 5, maxNewTokens: 10, topK: 20 };
      // Left behind by a process that is gone (killed while writing, say): removed. A live process's folder and
      // unrelated files stay.
      const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
      await mkdir(join(scratch, `masa-rl-ort-${gone}-abcdef`));
      await writeFile(join(scratch, `masa-rl-ort-${gone}-abcdef`, 'weights.bin'), new Uint8Array(16));
      await mkdir(join(scratch, `masa-rl-ort-${process.pid}-live`));
      await writeFile(join(scratch, 'unrelated.txt'), 'keep');
      const external = engine({ weightMode: 'initializers', inlineWeightLimitBytes: 0, tempDir: scratch });
      const [viaFile] = await external.doGenerate([request]);
      expect((await readdir(scratch)).sort()).toEqual([`masa-rl-ort-${process.pid}-live`, 'unrelated.txt']);
      const [fed] = await engine().doGenerate([request]);
      expectSameSamples(viaFile, fed);
      // The decode session holds its own copy: zeroing the final norm changes nothing for it.
      const norm = weights.get('model.norm.weight') as Float32Array;
      const saved = norm.slice();
      try {
        norm.fill(0);
        const [again] = await external.doGenerate([{ ...request, promptTokenIds: prompts[0] as number[] }]);
        // Prefill still reads the weights in place, so the first token comes from all-zero logits (uniform over the
        // top 20); the decode steps do not see the change.
        const uniform = Math.log(1 / 20);
        for (const sample of again?.samples ?? []) {
          expect(sample.logprobs[0]).toBeCloseTo(uniform, 9);
          for (const logprob of sample.logprobs.slice(1)) expect(Math.abs(logprob - uniform)).toBeGreaterThan(1e-6);
        }
      } finally {
        norm.set(saved);
      }
      const missing = engine({ weightMode: 'initializers', inlineWeightLimitBytes: 0, tempDir: join(scratch, 'absent') });
      const error = await failure(missing.doGenerate([request]));
      expect(error.code).toBe('FILE_WRITE_FAILED');
      expect(error.message).toContain('set tempDir');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('rejects bad requests with the field named', async () => {
    const created = engine({ tokenizer: undefined as never });
    const bare = createOrtEngine({ config, weights });
    engines.push(bare);
    expect((await failure(created.doGenerate([{ id: 'x', promptTokenIds: [vocab], maxNewTokens: 1 }]))).message).toContain('not a token id in [0, 64)');
    expect((await failure(created.doGenerate([{ id: 'x', promptTokenIds: [1], maxNewTokens: 300 }]))).message).toContain(
      "exceeds the model's context of 256 (max_position_embeddings in config.json)",
    );
    expect((await failure(bare.doGenerate([{ id: 'x', messages: [{ role: 'user', content: 'hi' }], maxNewTokens: 1 }]))).message).toContain(
      'messages need a tokenizer with a chat template',
    );
    expect((await failure(bare.doGenerate([{ id: 'x', promptTokenIds: [1], maxNewTokens: 3, stopStrings: ['a'] }]))).message).toContain('stopStrings need a tokenizer');
    const [textless] = await bare.doGenerate([{ id: 'x', promptTokenIds: [1], maxNewTokens: 3 }]);
    expect(textless?.samples[0]?.text).toBe('');
    expect(() => createOrtEngine({ config, weights: new Map() })).toThrow(/the weights have no "model.embed_tokens.weight"/);
  });
});
