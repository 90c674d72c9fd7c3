/**
 * The OpenAI backend end to end: masa-rl's own OpenAI-compatible server (`createServer`) over a
 * scripted engine on a loopback port, queried through `createEvaluationEngine({ backend: 'openai' })`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from '@masa-rl/rollout';
import { createScriptedEngine } from '@masa-rl/rollout/test';
import { expect, it } from 'vitest';
import { inlineGrader, tempDir, toyDataset } from './__tests__/fixtures.js';
import { createEvaluationEngine } from './evaluation-engine.js';
import type { ResponseRecord } from './results-store.js';
import { runEvaluation } from './run-evaluation.js';

it('evaluates through an OpenAI-compatible server: chat messages out, samples, token counts and finish reasons back', async () => {
  // The server gives requests its own ids: the problem is read from the prompt ("What is I + 1?").
  const scripted = createScriptedEngine({
    respond: ({ promptText, sampleIndex }) => {
      const problem = Number(/What is (\d+) \+ 1\?/.exec(promptText)?.[1] ?? -1);
      return sampleIndex <= problem ? `so the answer is \\boxed{${problem + 1}}` : 'I think \\boxed{0}';
    },
  });
  await using server = createServer({ engine: scripted, model: 'toy-model', port: 0 });
  const { url } = await server.listen();
  await using remote = await createEvaluationEngine({ backend: 'openai', baseUrl: `${url}/v1`, apiModel: 'toy-model' });
  expect(remote.model).toEqual({ path: 'toy-model', backend: 'openai', baseUrl: `${url}/v1`, apiModel: 'toy-model' });
  expect(remote.tokenizer).toBeUndefined();
  const outDir = tempDir('openai');
  const result = await runEvaluation({ engine: remote.engine, model: remote.model, datasets: [toyDataset('toy', 3)], outDir, n: 3, maxNewTokens: 40, _internal: { grader: inlineGrader() } });
  // Problem i has samples 0..i right: c = 1, 2, 3 of 3 → pass@1 = (1/3 + 2/3 + 1) / 3 = 2/3.
  expect(result.summary.datasets[0]?.passAtK[0]?.mean).toBeCloseTo(2 / 3, 12);
  // The server received chat messages (it applies its own template) with the sampling settings.
  expect(scripted.calls.flat().map((request) => [request.messages?.[0]?.content.startsWith('What is 0 + 1?') ?? false, request.n, request.maxNewTokens, request.temperature])).toEqual([
    [true, 3, 40, 0.6],
    [false, 3, 40, 0.6],
    [false, 3, 40, 0.6],
  ]);
  const first = JSON.parse(readFileSync(join(outDir, 'responses.jsonl'), 'utf8').split('\n')[0] as string) as ResponseRecord;
  expect(first.responses).toEqual(['so the answer is \\boxed{1}', 'I think \\boxed{0}', 'I think \\boxed{0}']);
  expect(first.tokens).toEqual([26, 17, 17]);
  expect(first.finishReasons).toEqual(['stop', 'stop', 'stop']);
});
