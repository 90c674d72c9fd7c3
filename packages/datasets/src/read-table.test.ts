import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';
import { parseJsonDocument, parseJsonl } from './jsonl.js';
import { formatFromPath, readTable } from './read-table.js';
import { flatParquet, verlParquet } from './testing/parquet-fixtures.js';

const folder = mkdtempSync(join(tmpdir(), 'masa-read-'));

describe('parseJsonl', () => {
  it('reads objects, skips blank lines and reports every bad line by number', () => {
    const text = '{"a":1}\n\n{"a":\n[1,2]\n{"a":2}\r\n"x"\n';
    const table = parseJsonl(text);
    expect(table.rows).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 5, value: { a: 2 } },
    ]);
    expect(table.issues.map((issue) => issue.line)).toEqual([3, 4, 6]);
    expect(table.issues[0]?.message).toContain('invalid JSON');
    expect(table.issues[1]?.message).toContain('an array');
  });

  it('parses a JSON array document with row numbers', () => {
    const table = parseJsonDocument(' [{"q":"a"}, 3, {"q":"b"}]');
    expect(table.unit).toBe('row');
    expect(table.rows.map((row) => row.line)).toEqual([1, 3]);
    expect(table.issues).toEqual([{ line: 2, message: 'expected a JSON object' }]);
  });
});

describe('parseCsv', () => {
  it('numbers rows by the line they start on, across quoted newlines and blank lines', () => {
    const table = parseCsv('question,answer\n"two\nlines",1\n\nthree,3\n');
    expect(table.rows).toEqual([
      { line: 2, value: { question: 'two\nlines', answer: '1' } },
      { line: 5, value: { question: 'three', answer: '3' } },
    ]);
  });

  it('reports a structural error with its line', () => {
    const table = parseCsv('a,b\n1,2\n3,4,5\n');
    expect(table.rows).toEqual([]);
    expect(table.issues[0]?.line).toBe(3);
    expect(table.issues[0]?.message).toContain('invalid CSV');
  });
});

describe('readTable', () => {
  it('detects formats from extensions', () => {
    expect(formatFromPath('a/b.JSONL')).toBe('jsonl');
    expect(formatFromPath('x.parquet')).toBe('parquet');
    expect(formatFromPath('x.csv')).toBe('csv');
    expect(formatFromPath('x.json')).toBe('json');
    expect(formatFromPath('x.txt')).toBeUndefined();
  });

  it('reads a flat parquet file written by hyparquet-writer', async () => {
    const path = join(folder, 'flat.parquet');
    writeFileSync(path, new Uint8Array(flatParquet({ question: ['q1', 'q2'], answer: ['1', null] })));
    const table = await readTable(path);
    expect(table.format).toBe('parquet');
    expect(table.rows).toEqual([
      { line: 1, value: { question: 'q1', answer: '1' } },
      { line: 2, value: { question: 'q2', answer: null } },
    ]);
  });

  it('reads nested verl columns, with INT64 as numbers', async () => {
    const path = join(folder, 'verl.parquet');
    const messages = [{ role: 'user', content: 'What is $1+1$?' }];
    writeFileSync(path, new Uint8Array(verlParquet([{ dataSource: 'd', messages, groundTruth: { target: '2' }, index: 7n }])));
    const table = await readTable(path);
    expect(table.rows[0]?.value).toEqual({
      data_source: 'd',
      prompt: messages,
      ability: 'math',
      reward_model: { ground_truth: { target: '2', answer: null, question: null }, style: 'rule' },
      extra_info: { index: 7, split: 'test' },
      level: null,
    });
  });

  it('fails clearly for a missing file, an unknown extension and a corrupt parquet', async () => {
    await expect(readTable(join(folder, 'none.jsonl'))).rejects.toSatisfy((error: unknown) => MasaError.hasCode(error, 'FILE_NOT_FOUND'));
    await expect(readTable(join(folder, 'x.txt'))).rejects.toThrow('--format');
    const bad = join(folder, 'bad.parquet');
    writeFileSync(bad, 'not parquet at all');
    await expect(readTable(bad)).rejects.toSatisfy((error: unknown) => MasaError.hasCode(error, 'DATASET_INVALID'));
  });
});
