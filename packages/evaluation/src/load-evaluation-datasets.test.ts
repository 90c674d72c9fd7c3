import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { tempDir } from './__tests__/fixtures.js';
import { DOMAIN_DATASETS } from './domains.js';
import { loadEvaluationDatasets } from './load-evaluation-datasets.js';

async function failure(promise: Promise<unknown>): Promise<MasaError> {
  const error = await promise.catch((caught: unknown) => caught);
  if (!MasaError.isInstance(error)) throw new Error(`expected a MasaError, got ${String(error)}`);
  return error;
}

describe('loadEvaluationDatasets', () => {
  it('loads every dataset of the math and logic domains (limit per dataset)', async () => {
    const math = await loadEvaluationDatasets({ domain: 'math', limit: 2 });
    expect(math.datasets.map((dataset) => dataset.info.name)).toEqual(['aime2024', 'aime2025', 'amc23', 'math500', 'minerva', 'olympiadbench']);
    expect(math.datasets.every((dataset) => dataset.problems.length === 2 && dataset.file === null)).toBe(true);
    expect(math.skipped).toEqual([]);
    const logic = await loadEvaluationDatasets({ domain: 'logic', limit: 1 });
    expect(logic.datasets.map((dataset) => dataset.info.name)).toEqual([...DOMAIN_DATASETS.logic]);
  });

  it('leaves GPQA and R-Bench out of science unless a copy is given, saying which flag adds them', async () => {
    const science = await loadEvaluationDatasets({ domain: 'science', limit: 1 });
    expect(science.datasets.map((dataset) => dataset.info.name)).toEqual(['arc_challenge', 'scibench']);
    expect(science.skipped.map((entry) => entry.name)).toEqual(['gpqa_diamond', 'rbench']);
    expect(science.skipped[0]?.reason).toContain('--gpqa-csv');
    expect(science.skipped[1]?.reason).toContain('--rbench-file');

    // A GPQA CSV with one question: the corrected order is a per-question shuffle, parity puts the answer on D.
    const csv = join(tempDir('gpqa'), 'gpqa_diamond.csv');
    writeFileSync(csv, 'Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Record ID\nWhich?,right,w1,w2,w3,rec1\n');
    const parity = await loadEvaluationDatasets({ domain: 'science', limit: 1, gpqaCsv: csv, parity: true });
    expect(parity.datasets.map((dataset) => dataset.info.name)).toEqual(['gpqa_diamond', 'arc_challenge', 'scibench']);
    expect(parity.datasets[0]?.file).toBe(csv);
    expect(parity.datasets[0]?.problems[0]?.answer).toBe('D');
    const one = await loadEvaluationDatasets({ dataset: 'gpqa_diamond', gpqaCsv: csv });
    expect(one.datasets[0]?.problems).toHaveLength(1);
  });

  it('refuses neither or both of dataset and domain, an unknown domain, and GPQA without its CSV', async () => {
    expect((await failure(loadEvaluationDatasets({}))).code).toBe('ARGUMENT_INVALID');
    expect((await failure(loadEvaluationDatasets({ dataset: 'math500', domain: 'math' }))).message).toContain('exactly one of --dataset NAME and --domain');
    expect((await failure(loadEvaluationDatasets({ domain: 'poetry' }))).message).toBe('unknown domain "poetry": use --domain math, science, logic, coding');
    const gpqa = await failure(loadEvaluationDatasets({ dataset: 'gpqa' }));
    expect(gpqa.code).toBe('DATASET_NOT_FOUND');
    expect(gpqa.message).toContain('--gpqa-csv');
    expect((await failure(loadEvaluationDatasets({ dataset: 'math5000' }))).code).toBe('DATASET_NOT_FOUND');
  });
});
