import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError, type Problem, type SampleScore } from '@masa-rl/core';
import type { DatasetInfo, LoadedDataset } from '@masa-rl/datasets';
import { describe, expect, it } from 'vitest';
import { createEvalCommand, type EvalCommandOptions } from './eval.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const sample = join(root, 'packages', 'scoring', 'examples', 'math500-sample.responses.jsonl');
const cwd = mkdtempSync(join(tmpdir(), 'masa-cli-eval-'));

async function run(args: string[], internal: EvalCommandOptions['_internal'] = {}): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const command = createEvalCommand({
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    env: {},
    _internal: internal,
  });
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
  await command.parseAsync(['score', ...args], { from: 'user' });
  return { out, err };
}

async function failure(args: string[], internal: EvalCommandOptions['_internal'] = {}): Promise<MasaError> {
  try {
    await run(args, internal);
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

function readScores(dir: string): SampleScore[] {
  return readFileSync(join(dir, 'scores.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SampleScore);
}

/** Which of the bundled sample responses are right, decided by hand when they were written. */
const EXPECTED: Record<string, number[]> = {
  'test/precalculus/807.json': [1, 1, 0],
  'test/intermediate_algebra/1994.json': [1, 1, 0],
  'test/algebra/2584.json': [1, 1, 0],
  'test/number_theory/572.json': [1, 1, 0],
  'test/algebra/1349.json': [1, 0],
  'test/prealgebra/1622.json': [1, 1, 1, 0],
  'test/number_theory/515.json': [1, 1, 0],
  'test/precalculus/927.json': [1, 1, 0],
  'test/algebra/2036.json': [1, 1, 0],
  'test/number_theory/1032.json': [1, 1, 0],
  'test/intermediate_algebra/1197.json': [1, 1, 0],
  'test/precalculus/990.json': [1, 1, 0],
  'test/intermediate_algebra/134.json': [1, 0],
  'test/precalculus/1199.json': [1, 1, 0],
};

describe('masa eval score on the bundled MATH-500 sample', () => {
  it.each(['correct', 'masa-parity'] as const)('scores every response as written by hand (%s mode) and writes the files', async (mode) => {
    const outDir = join(cwd, `sample-${mode}`);
    const { out, err } = await run(['--responses', sample, '--dataset', 'math500', '--mode', mode, '--out', outDir, '--workers', '1']);
    const scores = readScores(outDir);
    const byProblem: Record<string, number[]> = {};
    for (const score of scores) (byProblem[score.problemId] ??= [])[score.sampleIndex] = score.score;
    expect(byProblem).toEqual(EXPECTED);
    // pass@1 = mean over problems of c/n, computed here from the hand labels.
    const expectedPass1 = Object.values(EXPECTED).reduce((acc, list) => acc + list.filter((x) => x === 1).length / list.length, 0) / 14;
    const summary = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as {
      datasets: Array<{ dataset: string; mode: string; problems: number; samples: number; passAtK: Array<{ k: number; mean: number }> }>;
    };
    expect(summary.datasets[0]).toMatchObject({ dataset: 'math500', mode, problems: 14, samples: 41 });
    expect(summary.datasets[0]?.passAtK[0]?.mean).toBeCloseTo(expectedPass1, 12);
    expect(out).toContain(`| math500 | math | ${mode} | 14 | 2–4 | ${(100 * expectedPass1).toFixed(2)} ± `);
    expect(readFileSync(join(outDir, 'summary.md'), 'utf8')).toContain('# MATH-500 (math500)');
    expect(readdirSync(outDir).sort()).toEqual(['scores.jsonl', 'summary.json', 'summary.md']);
    expect(err).toContain('486 of 500 math500 problems have no responses');
  });

  it('--json prints the summary object', async () => {
    const { out } = await run(['--responses', sample, '--dataset', 'math500', '--json', '--ks', '1,2', '--out', join(cwd, 'json'), '--workers', '1']);
    const summary = JSON.parse(out) as { datasets: Array<{ passAtK: Array<{ k: number }> }>; domains: unknown[] };
    expect(summary.datasets[0]?.passAtK.map((stat) => stat.k)).toEqual([1, 2]);
    expect(summary.domains).toHaveLength(1);
  });
});

describe('masa eval score input handling', () => {
  const info = {
    name: 'toy_logic',
    title: 'Toy logic',
    aliases: [],
    domain: 'logic',
    answerKind: 'choice',
    template: 'logic',
    split: 'test',
    file: 'toy.jsonl',
    rows: 2,
    sha256: null,
    license: 'test',
    source: 'test',
    notes: '',
  } as unknown as DatasetInfo;
  const problems: Problem[] = [
    { id: 'p1', question: 'q1', answer: 'A', choices: [{ label: 'A', text: 'yes' }, { label: 'B', text: 'no' }] },
    { id: 'p2', question: 'q2', answer: 'B', choices: [{ label: 'A', text: 'yes' }, { label: 'B', text: 'no' }] },
  ];
  const loadDataset = async (): Promise<LoadedDataset> => ({ info, problems });

  it('accepts one response per line, grades logic answers by the label phrase', async () => {
    const file = join(cwd, 'logic.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ id: 'p1', response: 'Reasoning… The correct option is: A' }),
        JSON.stringify({ id: 'p2', response: 'a tricky one. The correct option is: B' }),
        JSON.stringify({ id: 'p2', responses: ['The correct option is: A'] }),
      ].join('\n'),
    );
    const outDir = join(cwd, 'logic-out');
    await run(['--responses', file, '--dataset', 'toy_logic', '--out', outDir, '--workers', '1'], { loadDataset });
    const scores = readScores(outDir);
    expect(scores.map((s) => [s.problemId, s.sampleIndex, s.score])).toEqual([
      ['p1', 0, 1],
      ['p2', 0, 1],
      ['p2', 1, 0],
    ]);
    expect(scores[0]?.verdict.reason).toBe('choice-label-phrase');
  });

  it('names the line of an unknown id or a malformed line', async () => {
    const unknown = join(cwd, 'unknown.jsonl');
    writeFileSync(unknown, `${JSON.stringify({ id: 'p1', response: 'A' })}\n${JSON.stringify({ id: 'p9', response: 'A' })}\n`);
    const error = await failure(['--responses', unknown, '--dataset', 'toy_logic', '--out', join(cwd, 'x')], { loadDataset });
    expect(error.code).toBe('DATASET_INVALID');
    expect(error.message).toMatch(/unknown\.jsonl:2: unknown problem id "p9"/);

    const malformed = join(cwd, 'malformed.jsonl');
    writeFileSync(malformed, `${JSON.stringify({ id: 'p1', response: 'A' })}\n{"id": "p2", "response": \n`);
    expect((await failure(['--responses', malformed, '--dataset', 'toy_logic'], { loadDataset })).message).toMatch(/malformed\.jsonl:2: not valid JSON/);

    const noResponse = join(cwd, 'noresponse.jsonl');
    writeFileSync(noResponse, `${JSON.stringify({ id: 'p1', answer: 'A' })}\n`);
    expect((await failure(['--responses', noResponse, '--dataset', 'toy_logic'], { loadDataset })).message).toMatch(/noresponse\.jsonl:1: needs "responses"/);

    expect((await failure(['--responses', join(cwd, 'none.jsonl'), '--dataset', 'toy_logic'], { loadDataset })).code).toBe('FILE_NOT_FOUND');
    expect(existsSync(join(cwd, 'x'))).toBe(false);
  });
});

describe('masa eval score on MBPP (sandboxed code)', () => {
  it('passes the reference solution and fails a wrong one', async () => {
    const mbpp = readFileSync(join(root, 'datasets', 'mbpp.jsonl'), 'utf8').split('\n')[0] as string;
    const problem = JSON.parse(mbpp) as { id: string; answer: string };
    const file = join(cwd, 'mbpp.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ id: problem.id, responses: [`\`\`\`python\n${problem.answer.replace(/\r/g, '')}\n\`\`\``, '```python\ndef remove_Occ(s, ch):\n    return s\n```'] })}\n`,
    );
    const outDir = join(cwd, 'mbpp-out');
    await run(['--responses', file, '--dataset', 'mbpp', '--out', outDir]);
    const scores = readScores(outDir);
    if (scores[0]?.verdict.status === 'error') {
      // No Python here: both samples must say so instead of crashing.
      expect(scores.every((s) => s.verdict.reason === 'sandbox-failed')).toBe(true);
      return;
    }
    expect(scores.map((s) => s.score)).toEqual([1, 0]);
  });
});
