import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './load-dataset.js';
import { listDatasets } from './registry.js';

async function caught(run: () => Promise<unknown>): Promise<MasaError> {
  try {
    await run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

describe('loadDataset', () => {
  it('loads every bundled dataset with the manifest row count and well-formed problems', async () => {
    const bundled = listDatasets().filter((info) => info.file !== null);
    expect(bundled.length).toBeGreaterThanOrEqual(16);
    for (const entry of bundled) {
      const { info, problems } = await loadDataset(entry.name);
      expect(problems.length, entry.name).toBe(entry.rows);
      expect(new Set(problems.map((problem) => problem.id)).size, `${entry.name} ids unique`).toBe(problems.length);
      for (const problem of problems) {
        expect(problem.question.length).toBeGreaterThan(0);
        expect(typeof problem.answer).toBe('string');
        if (info.answerKind === 'choice') {
          expect(problem.choices?.some((choice) => choice.label === problem.answer), `${entry.name}/${problem.id}`).toBe(true);
        }
      }
    }
  });

  it('reads a known row exactly (math500 first row)', async () => {
    const { problems } = await loadDataset('math500', { limit: 1 });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      id: 'test/precalculus/807.json',
      question:
        'Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.  Enter your answer in the form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$',
      answer: '\\left( 3, \\frac{\\pi}{2} \\right)',
    });
    expect(problems[0]?.meta).toMatchObject({ subject: 'Precalculus', level: 2 });
  });

  it('keeps the empty MATH targets of the reference as given (5 rows)', async () => {
    const test = (await loadDataset('math')).problems.filter((problem) => problem.answer.trim() === '');
    const train = (await loadDataset('math_train')).problems.filter((problem) => problem.answer.trim() === '');
    expect(test.map((problem) => problem.id)).toEqual(['math-test-3526']);
    expect(train.map((problem) => problem.id)).toEqual(['math-train-5341', 'math-train-5343', 'math-train-6627', 'math-train-7301']);
  });

  it('loads prompt assets with the dataset (logic template, MBPP shots)', async () => {
    const logic = await loadDataset('folio', { limit: 2 });
    expect(logic.info.promptAssets?.iclTemplate).toContain('[[CONTEXT]]');
    const mbpp = await loadDataset('mbpp', { limit: 1 });
    expect(mbpp.info.promptAssets?.fewShotExamples?.map((shot) => shot.task_id)).toEqual([2, 3, 4]);
  });

  it('explains how to get a dataset that is not bundled', async () => {
    const error = await caught(() => loadDataset('gpqa'));
    expect(error.code).toBe('DATASET_NOT_FOUND');
    expect(error.message).toContain('--gpqa-csv');
    expect((await caught(() => loadDataset('deepscaler'))).message).toContain('masa data prepare --preset deepscaler');
  });

  it('rejects unknown names and bad limits', async () => {
    expect((await caught(() => loadDataset('aime2026'))).message).toMatch(/Did you mean "aime202[45]"/);
    expect((await caught(() => loadDataset('math500', { limit: 0 }))).code).toBe('ARGUMENT_INVALID');
    expect((await caught(() => loadDataset('math500', { limit: 1.5 }))).code).toBe('ARGUMENT_INVALID');
  });

  it('loads a prepared file for a registry entry with its template', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'masa-load-'));
    const file = join(folder, 'deepscaler.jsonl');
    writeFileSync(file, '{"id":"0","question":"What is $1+1$?","answer":"2"}\n{"id":"1","question":"Q","answer":"3"}\n');
    const { info, problems } = await loadDataset('deepscaler', { file, limit: 1 });
    expect(info).toMatchObject({ name: 'deepscaler', template: 'deepscaler', file, rows: 2 });
    expect(problems).toEqual([{ id: '0', question: 'What is $1+1$?', answer: '2' }]);
  });
});
