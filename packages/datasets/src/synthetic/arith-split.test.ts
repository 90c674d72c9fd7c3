import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Problem } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { problemsToJsonl } from '../atomic-write.js';
import { loadDataset } from '../load-dataset.js';
import { buildPrompt } from '../prompts.js';
import { parseArithProblem } from './arith-problem.js';
import { arithSplitOf, generateArithSplits } from './arith-split.js';

const datasetsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'datasets');

describe('bundled synthetic-arith files', () => {
  it('load under their names with the right sizes; held-out problems never occur in training', async () => {
    const train = await loadDataset('synthetic-arith');
    const validation = await loadDataset('synthetic-arith-validation');
    const test = await loadDataset('synthetic-arith-test');
    expect([train.problems.length, validation.problems.length, test.problems.length]).toEqual([20000, 200, 500]);
    expect(train.info).toMatchObject({ domain: 'math', answerKind: 'math', template: 'synthetic-arith', split: 'train' });
    const trainSet = new Set(train.problems.map((problem) => problem.question));
    const validationSet = new Set(validation.problems.map((problem) => problem.question));
    const testSet = new Set(test.problems.map((problem) => problem.question));
    expect(validationSet.size).toBe(200);
    expect(testSet.size).toBe(500);
    expect([...validationSet].filter((question) => trainSet.has(question) || testSet.has(question))).toEqual([]);
    expect([...testSet].filter((question) => trainSet.has(question))).toEqual([]);
    for (const [split, loaded] of [['train', train], ['validation', validation], ['test', test]] as const) {
      for (const problem of loaded.problems) {
        expect(arithSplitOf(problem.question)).toBe(split);
        expect(problem.answer).toBe(String(parseArithProblem(problem.question).answer));
        expect(problem.question).not.toMatch(/addition|subtraction|multiplication|carry|borrow/i);
      }
    }
    const first = test.problems[0] as Problem;
    expect(buildPrompt(first, test.info)).toEqual([{ role: 'user', content: `${first.question}\n` }]);
  });

  it('are exactly what the checked-in generator writes (seed and mix of scripts/generate-synthetic.mjs)', () => {
    const splits = generateArithSplits({ seed: 'masa-rl synthetic-arith v1', sizes: { train: 20000, validation: 200, test: 500 }, mix: 'rl-hard' });
    for (const split of ['train', 'validation', 'test'] as const) {
      expect(problemsToJsonl(splits[split]) === readFileSync(join(datasetsDir, 'synthetic', `${split}.jsonl`), 'utf8'), split).toBe(true);
    }
  });
});

describe('generateArithSplits', () => {
  it('is deterministic and files every problem under its hash split', () => {
    const options = { seed: 3, sizes: { train: 300, validation: 5, test: 5 }, mix: 'prototype' as const };
    const first = generateArithSplits(options);
    expect(generateArithSplits(options)).toEqual(first);
    expect(first.train).toHaveLength(300);
    for (const split of ['train', 'validation', 'test'] as const) for (const problem of first[split]) expect(arithSplitOf(problem.question)).toBe(split);
  });
});
