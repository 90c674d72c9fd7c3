import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '@masa-rl/core';
import { arithMetaTarget, parseArithProblem } from '@masa-rl/datasets';
import { loadTokenizer, type Tokenizer } from '@masa-rl/model';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScriptedEngine } from '../test/scripted-engine.js';
import { CHAR_TOKEN_IDS, writeCharTokenizer } from './char-tokenizer.js';
import { evaluateTinyModel } from './tiny-evaluation.js';

let dir: string;
let tokenizer: Tokenizer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tiny-eval-'));
  await writeCharTokenizer({ dir });
  tokenizer = await loadTokenizer({ model: dir });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const problems: Problem[] = [
  { id: 'a', question: 'Compute 2 + 3.', answer: '5' },
  { id: 'b', question: 'Compute 47 + 38 - 5.', answer: '80' },
  { id: 'c', question: 'Compute 9 * 4.', answer: '36' },
];

it('counts accuracy, the pass-count histogram, mixed problems and meta calibration as a hand count does', async () => {
  // a: 8/8 right, greedy right, meta predicts 6. b: samples 0–2 right (3/8), greedy wrong, meta predicts 3. c: never right, meta unparseable.
  const engine = createScriptedEngine({
    tokenize: (text) => tokenizer.encode(text),
    detokenize: (ids) => tokenizer.decode(ids),
    respond: ({ request, promptText, sampleIndex }) => {
      const problem = problems.find((p) => promptText.includes(p.question)) as Problem;
      if (promptText.includes('Meta: ')) {
        if (problem.id === 'a') return '{"math_notion": ["addition"], "pass_rate": 6, "solution_length": 30}';
        if (problem.id === 'b') return '{"math_notion": ["addition", "subtraction"], "pass_rate": 3, "solution_length": 40}';
        return 'not json at all';
      }
      const greedy = request.id.endsWith(':greedy');
      const right = problem.id === 'a' || (problem.id === 'b' && !greedy && sampleIndex < 3);
      return `The answer is \\boxed{${right ? problem.answer : '1'}}.`;
    },
  });
  const result = await evaluateTinyModel({ engine, tokenizer, problems, samples: 8, stopTokenIds: [CHAR_TOKEN_IDS.imEnd], seed: 5 });
  expect(result.accuracy).toBeCloseTo(11 / 24, 12);
  expect(result.greedyAccuracy).toBeCloseTo(1 / 3, 12);
  expect(result.passCountHistogram).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 1]);
  expect(result.mixedFraction).toBeCloseTo(1 / 3, 12);
  expect(result.accuracyByOperations).toEqual([0.5, 3 / 8, null, null]);
  expect(result.meanCorrectLength).toBeCloseTo((8 * 'The answer is \\boxed{5}.'.length + 3 * 'The answer is \\boxed{80}.'.length) / 11, 12);
  expect(result.meta?.parseRate).toBeCloseTo(2 / 3, 12);
  expect(result.meta?.passRateMae).toBeCloseTo(1, 12); // |6 − 8| and |3 − 3|
  expect(result.meta?.passRateCorrelation).toBeCloseTo(1, 12); // two points on a rising line
  const heuristic = problems.map((p) => arithMetaTarget(parseArithProblem(p.question)).passRate);
  expect(result.meta?.heuristicMae).toBeCloseTo((Math.abs((heuristic[0] as number) - 8) + Math.abs((heuristic[1] as number) - 3) + (heuristic[2] as number)) / 3, 12);
  expect(result.meta?.constantMae).toBeCloseTo(8 / 3, 12); // median 3: |8 − 3| + 0 + |0 − 3|
  expect(result.meta?.meanReward).toBeGreaterThan(0);
  expect(result.meta?.meanReward).toBeLessThanOrEqual(1);

  // Requests: chat-templated prompts, 8 samples at T = 1, greedy = top-k 1, budgets within the 320-token context.
  const requests = engine.calls[0]?.requests ?? [];
  expect(requests).toHaveLength(9);
  const sampled = requests.find((r) => r.id === 'a:sampled');
  expect(sampled).toMatchObject({ n: 8, temperature: 1, stopTokenIds: [CHAR_TOKEN_IDS.imEnd] });
  expect(tokenizer.decode(sampled?.promptTokenIds ?? [])).toBe('<|im_start|>user\nCompute 2 + 3.\n<|im_end|>\n<|im_start|>assistant\n');
  expect((sampled?.promptTokenIds?.length ?? 0) + (sampled?.maxNewTokens ?? 0)).toBe(320);
  expect(requests.find((r) => r.id === 'a:greedy')).toMatchObject({ n: 1, topK: 1 });
  expect(tokenizer.decode(requests.find((r) => r.id === 'a:meta')?.promptTokenIds ?? [])).toBe(
    '<|im_start|>user\nMeta: Compute 2 + 3.\n<|im_end|>\n<|im_start|>assistant\n',
  );
});

it('with accuracyOnly asks only for the sampled solutions and reports no greedy or meta numbers', async () => {
  const engine = createScriptedEngine({
    tokenize: (text) => tokenizer.encode(text),
    detokenize: (ids) => tokenizer.decode(ids),
    respond: ({ promptText, sampleIndex }) => {
      const problem = problems.find((p) => promptText.includes(p.question)) as Problem;
      return `The answer is \\boxed{${sampleIndex % 2 === 0 ? problem.answer : '1'}}.`;
    },
  });
  const result = await evaluateTinyModel({ engine, tokenizer, problems, samples: 4, stopTokenIds: [CHAR_TOKEN_IDS.imEnd], accuracyOnly: true });
  expect(engine.calls[0]?.requests.map((r) => r.id)).toEqual(['a:sampled', 'b:sampled', 'c:sampled']);
  expect(result.accuracy).toBeCloseTo(0.5, 12); // samples 0 and 2 of 4 right, every problem
  expect(result.passCountHistogram).toEqual([0, 0, 3, 0, 0]);
  expect(result.greedyAccuracy).toBeNull();
  expect(result.meta).toBeNull();
});
