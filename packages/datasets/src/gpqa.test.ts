import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError, type Problem } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { gpqaOptionOrder, loadGpqaCsv } from './gpqa.js';
import { buildPrompt } from './prompts.js';

// Invented questions in the official CSV layout (not GPQA content).
const HEADER = 'Pre-Revision Question,Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Explanation,Subdomain,High-level domain,Record ID,Canary String';
function csvRow(index: number): string {
  return `old,"Which colour is item ${index}, really?",right ${index},wrong ${index}a,wrong ${index}b,wrong ${index}c,because,Optics,Physics,rec${String(index).padStart(4, '0')},canary`;
}

const folder = mkdtempSync(join(tmpdir(), 'masa-gpqa-'));
const path = join(folder, 'gpqa_diamond.csv');
writeFileSync(path, `${HEADER}\n${Array.from({ length: 40 }, (_, index) => csvRow(index)).join('\n')}\n`);

describe('loadGpqaCsv', () => {
  it('parity reproduces the reference: options in the order incorrect 2, incorrect 1, incorrect 3, correct (answer D)', async () => {
    const { problems, info } = await loadGpqaCsv(path, { parity: true });
    expect(info).toMatchObject({ name: 'gpqa_diamond', template: 'science-choice', answerKind: 'choice', rows: 40 });
    expect(problems.every((problem) => problem.answer === 'D')).toBe(true);
    expect(problems[3]).toMatchObject({
      id: 'rec0003',
      question: 'Which colour is item 3, really?',
      answer: 'D',
      choices: [
        { label: 'A', text: 'wrong 3b' },
        { label: 'B', text: 'wrong 3a' },
        { label: 'C', text: 'wrong 3c' },
        { label: 'D', text: 'right 3' },
      ],
    });
    expect(buildPrompt(problems[3] as Problem, info, { parity: true })[0]?.content).toBe(
      'Think step-by-step and choose the best answer from the following options. Answer only with the letter of the option inside \\boxed{}.\n' +
        'Which colour is item 3, really?\nA: wrong 3b\nB: wrong 3a\nC: wrong 3c\nD: right 3',
    );
  });

  it('corrected mode shuffles per question, reproducibly, and the answer points at the correct text', async () => {
    const first = await loadGpqaCsv(path);
    const second = await loadGpqaCsv(path);
    expect(second.problems).toEqual(first.problems);
    const counts: Record<string, number> = { A: 0, B: 0, C: 0, D: 0 };
    for (const [index, problem] of first.problems.entries()) {
      const correct = problem.choices?.find((choice) => choice.label === problem.answer);
      expect(correct?.text).toBe(`right ${index}`);
      expect(problem.choices?.map((choice) => choice.text).sort()).toEqual([`right ${index}`, `wrong ${index}a`, `wrong ${index}b`, `wrong ${index}c`]);
      counts[problem.answer] = (counts[problem.answer] ?? 0) + 1;
    }
    // 40 independent uniform positions: each letter appears (P(some letter missing) < 4·0.75^40 ≈ 4e-5 for a fair shuffle).
    expect(Object.values(counts).every((count) => count > 0)).toBe(true);
    expect(gpqaOptionOrder('rec0001', false)).toEqual(gpqaOptionOrder('rec0001', false));
    expect((await loadGpqaCsv(path, { limit: 2 })).problems).toHaveLength(2);
  });

  it('names the line and column of an empty cell, and the missing header columns', async () => {
    const broken = join(folder, 'broken.csv');
    writeFileSync(broken, `${HEADER}\n${csvRow(0)}\nold,"Q?",,w1,w2,w3,e,S,P,rec9,c\n`);
    await expect(loadGpqaCsv(broken)).rejects.toThrow(`${broken}: line 3: field "Correct Answer": is empty`);
    const wrong = join(folder, 'wrong.csv');
    writeFileSync(wrong, 'Question,Answer\nq,a\n');
    try {
      await loadGpqaCsv(wrong);
      throw new Error('expected an error');
    } catch (error: unknown) {
      expect(MasaError.hasCode(error, 'DATASET_INVALID')).toBe(true);
      expect((error as Error).message).toContain('"Correct Answer"');
      expect((error as Error).message).toContain('--gpqa-csv');
    }
  });
});
