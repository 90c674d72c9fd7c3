import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError, type Problem } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { problemsToJsonl, writeProblemsJsonl } from './atomic-write.js';
import { prepareDataset } from './prepare.js';
import { DATASET_PRESETS, getPreset } from './presets.js';
import { rowsToProblems, withLetterLabels } from './rows-to-problems.js';
import { verlParquet } from './testing/parquet-fixtures.js';

const folder = mkdtempSync(join(tmpdir(), 'masa-prepare-'));
let counter = 0;
function file(name: string, content: string | Uint8Array): string {
  counter += 1;
  const path = join(folder, `${counter}-${name}`);
  writeFileSync(path, content);
  return path;
}

async function caught(run: () => Promise<unknown>): Promise<MasaError> {
  try {
    await run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

const rows = (...values: Record<string, unknown>[]) => values.map((value, index) => ({ line: index + 1, value }));

describe('prepareDataset', () => {
  it('converts JSONL with named fields; unused fields go to meta', async () => {
    const input = file('in.jsonl', '{"problem":"1+1?","solution":"2","uid":"a","level":3}\n{"problem":"2+2?","solution":4,"uid":"b"}\n');
    const { problems, layout } = await prepareDataset({ input, questionField: 'problem', answerField: 'solution', idField: 'uid' });
    expect(layout).toBe('jsonl');
    expect(problems).toEqual([
      { id: 'a', question: '1+1?', answer: '2', meta: { level: 3 } },
      { id: 'b', question: '2+2?', answer: '4' },
    ]);
  });

  it('rejects a missing field with the line and the field (acceptance: issue 2)', async () => {
    const input = file('missing.jsonl', '{"question":"a","answer":"1"}\n\n{"question":"b"}\n');
    const error = await caught(() => prepareDataset({ input }));
    expect(error.code).toBe('DATASET_INVALID');
    expect(error.message).toContain(`${input}: line 3: field "answer": is missing`);
    expect(error.details['issues']).toEqual([{ line: 3, field: 'answer', message: expect.stringContaining('--answer-field') }]);
  });

  it('reports every malformed row at once: bad JSON, missing and empty fields, duplicate ids', async () => {
    const input = file(
      'many.jsonl',
      ['{"id":"1","question":"a","answer":"x"}', '{"id":"2","question":', '{"id":"3","answer":"y"}', '{"id":"1","question":"c","answer":"z"}', '{"id":"5","question":"  ","answer":"w"}'].join('\n'),
    );
    const error = await caught(() => prepareDataset({ input }));
    const lines = error.details['lines'] as string[];
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/line 2: invalid JSON/);
    expect(lines[1]).toContain('line 3: field "question": is missing');
    expect(lines[2]).toContain('line 4: field "id": id "1" repeats the one at line/row 1');
    expect(lines[3]).toContain('line 5: field "question": is empty');
    expect(error.message).toContain('4 malformed lines');
  });

  it('converts CSV with line numbers and choices from columns', async () => {
    const input = file('in.csv', 'q,a,A,B,C\n"Pick\none",B,x,y,\nsecond,,x,y,z\n');
    const error = await caught(() => prepareDataset({ input, questionField: 'q', answerField: 'a', choicesField: 'A,B,C' }));
    // csv cells are strings: the empty answer on line 4 is present but must still be a usable answer
    expect(error.message).toContain('line 4: field "a"');
    const ok = file('ok.csv', 'q,a,A,B,C\n"Pick\none",B,x,y,\n');
    const { problems } = await prepareDataset({ input: ok, questionField: 'q', answerField: 'a', choicesField: 'A,B,C' });
    expect(problems).toEqual([
      {
        id: '0',
        question: 'Pick\none',
        answer: 'B',
        choices: [
          { label: 'A', text: 'x' },
          { label: 'B', text: 'y' },
        ],
      },
    ]);
  });

  it('detects verl parquet and unwraps ground_truth strings, {target} and {answer}', async () => {
    const input = file(
      'verl.parquet',
      new Uint8Array(
        verlParquet([
          { dataSource: 'TianHongZXY/MATH', messages: [{ role: 'user', content: 'Find $x$.' }], groundTruth: { target: '3', question: 'Find $x$.' }, index: 0n, level: 'Level 2' },
          { dataSource: 'mine', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Q2' }], groundTruth: { answer: '\\frac{1}{2}' }, index: 1n },
        ]),
      ),
    );
    const { problems, layout } = await prepareDataset({ input });
    expect(layout).toBe('verl');
    expect(problems.map((problem) => [problem.id, problem.question, problem.answer])).toEqual([
      ['0', 'Find $x$.', '3'],
      ['1', 'Q2', '\\frac{1}{2}'],
    ]);
    expect(problems[0]?.meta).toMatchObject({ data_source: 'TianHongZXY/MATH', level: 'Level 2', extra_info: { index: 0, split: 'test' } });
    expect(problems[1]?.meta?.['prompt']).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Q2' },
    ]);
    const plain = file('verl-string.parquet', new Uint8Array(verlParquet([{ dataSource: 'd', messages: [{ role: 'user', content: 'Q' }], groundTruth: '42', index: 5n }])));
    expect((await prepareDataset({ input: plain })).problems).toMatchObject([{ id: '5', question: 'Q', answer: '42' }]);
  });

  it('a verl file with explicit fields is read as a plain table (dotted paths)', async () => {
    const input = file('verl2.parquet', new Uint8Array(verlParquet([{ dataSource: 'd', messages: [{ role: 'user', content: 'Q' }], groundTruth: { target: '7' }, index: 9n }])));
    const { problems, layout } = await prepareDataset({ input, questionField: 'prompt.0.content', answerField: 'reward_model.ground_truth.target', idField: 'extra_info.index' });
    expect(layout).toBe('parquet');
    expect(problems[0]).toMatchObject({ id: '9', question: 'Q', answer: '7' });
  });

  it('writes uniform JSONL atomically (no temp file left, content round-trips)', async () => {
    const out = join(folder, 'out', 'problems.jsonl');
    const problems: Problem[] = [
      { id: 'a', question: 'q', answer: '1', meta: { k: 1 } },
      { id: 'b', question: 'r', answer: 'B', choices: [{ label: 'A', text: 'x' }, { label: 'B', text: 'y' }] },
    ];
    await writeProblemsJsonl(out, problems);
    expect(readFileSync(out, 'utf8')).toBe(
      '{"id":"a","question":"q","answer":"1","meta":{"k":1}}\n{"id":"b","question":"r","answer":"B","choices":[{"label":"A","text":"x"},{"label":"B","text":"y"}]}\n',
    );
    expect(readdirSync(join(folder, 'out'))).toEqual(['problems.jsonl']);
    expect((await prepareDataset({ input: out })).problems).toEqual(problems);
    expect(problemsToJsonl([])).toBe('');
  });
});

describe('choices and labels', () => {
  it('parses "A) text" strings, plain strings, {label,text} lists and the HF {label:[],text:[]} layout', () => {
    const { problems, issues } = rowsToProblems(
      rows(
        { question: 'q', answer: 'B', options: ['A) yes', 'B) no'] },
        { question: 'q', answer: 'A', options: ['yes', 'no', 'maybe'] },
        { question: 'q', answer: 'A', options: [{ label: 'A', text: 'x' }] },
        { question: 'q', answer: 'D', options: { label: ['A', 'B', 'C', 'D'], text: ['w', 'x', 'y', 'z'] } },
      ),
      { choicesField: 'options' },
    );
    expect(issues).toEqual([]);
    expect(problems.map((problem) => problem.choices?.map((choice) => `${choice.label}=${choice.text}`).join(' '))).toEqual([
      'A=yes B=no',
      'A=yes B=no C=maybe',
      'A=x',
      'A=w B=x C=y D=z',
    ]);
  });

  it('maps numeric labels 1-4 to A-D with the answer, unless told not to', () => {
    const row = { question: 'q', answerKey: '3', choices: { label: ['1', '2', '3', '4'], text: ['a', 'b', 'c', 'd'] } };
    const mapped = rowsToProblems(rows(row), { answerField: 'answerKey' }).problems[0];
    expect(mapped?.answer).toBe('C');
    expect(mapped?.choices?.map((choice) => choice.label)).toEqual(['A', 'B', 'C', 'D']);
    const kept = rowsToProblems(rows(row), { answerField: 'answerKey', letterLabels: false }).problems[0];
    expect(kept?.answer).toBe('3');
    expect(withLetterLabels({ id: 'x', question: 'q', answer: 'B', choices: [{ label: 'A', text: 'a' }] }).answer).toBe('B');
  });

  it('rejects a list-valued answer with a hint to pick an element', () => {
    const { issues, problems } = rowsToProblems(rows({ question: 'q', final_answer: ['2', '3'] }), { answerField: 'final_answer' });
    expect(problems).toEqual([]);
    expect(issues[0]?.message).toContain('final_answer');
    expect(rowsToProblems(rows({ question: 'q', final_answer: ['2', '3'] }), { answerField: 'final_answer.0' }).problems[0]?.answer).toBe('2');
  });
});

describe('presets', () => {
  it('DeepScaleR maps problem/answer and R-Bench maps index, question, A..F, answer', () => {
    const deep = rowsToProblems(rows({ problem: 'P', answer: '-\\frac{2}{3}', solution: 'S' }), DATASET_PRESETS.deepscaler.mapping).problems;
    expect(deep).toEqual([{ id: '0', question: 'P', answer: '-\\frac{2}{3}', meta: { solution: 'S' } }]);
    const rbench = rowsToProblems(
      rows({ index: 17, question: 'Q', A: 'a', B: 'b', C: 'c', D: 'd', E: '', F: null, answer: 'C' }),
      getPreset('rbench').mapping,
    ).problems;
    expect(rbench).toEqual([
      {
        id: '17',
        question: 'Q',
        answer: 'C',
        choices: [
          { label: 'A', text: 'a' },
          { label: 'B', text: 'b' },
          { label: 'C', text: 'c' },
          { label: 'D', text: 'd' },
        ],
      },
    ]);
    expect(() => getPreset('nope')).toThrow('--preset deepscaler or rbench');
    expect(DATASET_PRESETS.rbench).toMatchObject({ hfDataset: 'R-Bench/R-Bench', config: 'rbench-t_en' });
  });
});
