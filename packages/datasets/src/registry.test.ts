import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { findDatasetsDir } from './datasets-dir.js';
import { editDistance, getDatasetInfo, listDatasets } from './registry.js';

function caught(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

describe('registry', () => {
  it('lists the bundled sets with domain, answer kind, rows and license', () => {
    const byName = new Map(listDatasets().map((info) => [info.name, info]));
    // Row counts from the staging manifest (/work/shared/data/MANIFEST.md).
    const expected: [string, string, string, number][] = [
      ['math500', 'math', 'math', 500],
      ['aime2024', 'math', 'math', 30],
      ['aime2025', 'math', 'math', 30],
      ['amc23', 'math', 'math', 40],
      ['minerva', 'math', 'math', 272],
      ['olympiadbench', 'math', 'math', 675],
      ['math', 'math', 'math', 5000],
      ['math_train', 'math', 'math', 7500],
      ['arc_challenge', 'science', 'choice', 1172],
      ['scibench', 'science', 'math', 692],
      ['prontoqa', 'logic', 'choice', 500],
      ['proofwriter', 'logic', 'choice', 600],
      ['folio', 'logic', 'choice', 204],
      ['logical_deduction', 'logic', 'choice', 300],
      ['ar_lsat', 'logic', 'choice', 231],
      ['mbpp', 'coding', 'code', 500],
    ];
    for (const [name, domain, answerKind, rows] of expected) {
      const info = byName.get(name);
      expect(info, name).toBeDefined();
      expect(info).toMatchObject({ domain, answerKind, rows });
      expect(info?.license.length).toBeGreaterThan(2);
    }
    for (const name of ['gpqa_diamond', 'rbench', 'deepscaler']) {
      expect(byName.get(name)).toMatchObject({ file: null, rows: null });
      expect(byName.get(name)?.obtain).toBeTruthy();
    }
  });

  it('resolves aliases ignoring case, "-" and "_"', () => {
    expect(getDatasetInfo('aime24').name).toBe('aime2024');
    expect(getDatasetInfo('AIME-2024').name).toBe('aime2024');
    expect(getDatasetInfo('olympiad_math').name).toBe('olympiadbench');
    expect(getDatasetInfo('MATH-500').name).toBe('math500');
    expect(getDatasetInfo('AR-LSAT').name).toBe('ar_lsat');
    expect(getDatasetInfo('LogicalDeduction').name).toBe('logical_deduction');
    expect(getDatasetInfo('minerva_math').name).toBe('minerva');
    expect(getDatasetInfo('math_test').name).toBe('math');
    expect(getDatasetInfo('MBPP').name).toBe('mbpp');
  });

  it('rejects an unknown name with the valid names and the nearest one', () => {
    const error = caught(() => getDatasetInfo('math50'));
    expect(error.code).toBe('DATASET_NOT_FOUND');
    expect(error.message).toContain('Did you mean "math500"?');
    expect(error.message).toContain('aime2024, aime2025');
    expect(caught(() => getDatasetInfo('prontoq')).message).toContain('"prontoqa"');
    expect(caught(() => getDatasetInfo('zzzzzzzzzzzz')).message).not.toContain('Did you mean');
  });

  it('computes edit distances by hand-checked examples', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('flaw', 'lawn')).toBe(2);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('findDatasetsDir', () => {
  it('walks up to the repository datasets/ folder', () => {
    expect(findDatasetsDir()).toMatch(/datasets$/);
  });

  it('uses an explicit folder and walks up from a given start', () => {
    const root = mkdtempSync(join(tmpdir(), 'masa-datasets-'));
    mkdirSync(join(root, 'datasets'));
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'datasets', 'manifest.json'), '{}');
    expect(findDatasetsDir({ datasetsDir: join(root, 'datasets') })).toBe(join(root, 'datasets'));
    expect(findDatasetsDir({ searchFrom: join(root, 'a', 'b') })).toBe(join(root, 'datasets'));
  });

  it('says how to fix a folder without manifest.json', () => {
    const empty = mkdtempSync(join(tmpdir(), 'masa-empty-'));
    const error = caught(() => findDatasetsDir({ datasetsDir: empty }));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain('--datasets-dir');
    expect(caught(() => findDatasetsDir({ searchFrom: '/' })).message).toContain('MASA_DATASETS_DIR');
  });
});
