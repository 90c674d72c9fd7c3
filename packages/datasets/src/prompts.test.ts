import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError, type Problem } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './load-dataset.js';
import { buildPrompt } from './prompts.js';

const datasetsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'datasets');
const BOXED = " Let's think step by step and output the final answer within \\boxed{}.";
const CHOICE =
  'Think step-by-step and choose the best answer from the following options. Answer only with the letter of the option inside \\boxed{}.';

async function first(name: string): Promise<Awaited<ReturnType<typeof loadDataset>>> {
  return loadDataset(name, { limit: 1 });
}

describe('buildPrompt on real bundled rows', () => {
  it('math: bare problem in parity, boxed instruction appended by default', async () => {
    const { info, problems } = await first('math500');
    const problem = problems[0] as Problem;
    const question =
      'Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.  Enter your answer in the form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$';
    expect(buildPrompt(problem, info, { parity: true })).toEqual([{ role: 'user', content: question }]);
    expect(buildPrompt(problem, info)).toEqual([{ role: 'user', content: question + BOXED }]);
  });

  it('science multiple choice: instruction, question, one "X: text" option per line (ARC)', async () => {
    const { info, problems } = await first('arc_challenge');
    const expected = [
      CHOICE,
      'An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?',
      'A: Planetary density will decrease.',
      'B: Planetary years will become longer.',
      'C: Planetary days will become shorter.',
      'D: Planetary gravity will become stronger.',
    ].join('\n');
    expect(buildPrompt(problems[0] as Problem, info)).toEqual([{ role: 'user', content: expected }]);
    expect(buildPrompt(problems[0] as Problem, info, { parity: true })[0]?.content).toBe(expected);
  });

  it('science: ARC items labelled 1-4 show A-D by default and 1-4 in parity', async () => {
    const { info } = await first('arc_challenge');
    const problem: Problem = {
      id: 'NYSED_x',
      question: 'Which is a gas?',
      answer: '2',
      choices: [
        { label: '1', text: 'ice' },
        { label: '2', text: 'steam' },
        { label: '3', text: 'rock' },
        { label: '4', text: 'wood' },
      ],
    };
    expect(buildPrompt(problem, info)[0]?.content).toBe(`${CHOICE}\nWhich is a gas?\nA: ice\nB: steam\nC: rock\nD: wood`);
    expect(buildPrompt(problem, info, { parity: true })[0]?.content).toBe(`${CHOICE}\nWhich is a gas?\n1: ice\n2: steam\n3: rock\n4: wood`);
  });

  it('scibench: the bare problem text in both modes', async () => {
    const { info, problems } = await first('scibench');
    const expected =
      'Suppose that $10.0 \\mathrm{~mol} \\mathrm{C}_2 \\mathrm{H}_6(\\mathrm{~g})$ is confined to $4.860 \\mathrm{dm}^3$ at $27^{\\circ} \\mathrm{C}$. Predict the pressure exerted by the ethane from the perfect gas.';
    expect(buildPrompt(problems[0] as Problem, info)).toEqual([{ role: 'user', content: expected }]);
    expect(buildPrompt(problems[0] as Problem, info, { parity: true })).toEqual([{ role: 'user', content: expected }]);
  });

  it('logic: the two-shot template with context, question and options (ProntoQA_1)', async () => {
    const { info, problems } = await first('prontoqa');
    const template = readFileSync(join(datasetsDir, 'icl_examples', 'ProntoQA_CoT.txt'), 'utf8');
    const shots = template.slice(0, template.lastIndexOf('Context:\n[[CONTEXT]]'));
    const tail = (options: string): string =>
      'Context:\n' +
      'Jompuses are not shy. Jompuses are yumpuses. Each yumpus is aggressive. Each yumpus is a dumpus. Dumpuses are not wooden. Dumpuses are wumpuses. Wumpuses are red. Every wumpus is an impus. Each impus is opaque. Impuses are tumpuses. Numpuses are sour. Tumpuses are not sour. Tumpuses are vumpuses. Vumpuses are earthy. Every vumpus is a zumpus. Zumpuses are small. Zumpuses are rompuses. Max is a yumpus.' +
      '\n\nQuestion: Is the following statement true or false? Max is sour.\n\nOptions:\n' +
      options +
      '\n\nReasoning:';
    expect(shots.startsWith('Given a problem statement as contexts, the task is to answer a logical reasoning question. \n------\n')).toBe(true);
    expect(buildPrompt(problems[0] as Problem, info)).toEqual([{ role: 'user', content: shots + tail('A) True\nB) False') }]);
    // Parity: the reference joins options with a backslash and an "n" (two characters).
    expect(buildPrompt(problems[0] as Problem, info, { parity: true })[0]?.content).toBe(shots + tail('A) True\\nB) False'));
  });

  it('logic: options fall back to choices when meta.options is absent; missing context is an error', async () => {
    const { info } = await first('folio');
    const problem: Problem = {
      id: 'x',
      question: ' Is it? ',
      answer: 'A',
      choices: [
        { label: 'A', text: 'True' },
        { label: 'B', text: 'False' },
      ],
      meta: { context: '  P.  ' },
    };
    const content = buildPrompt(problem, info)[0]?.content ?? '';
    expect(content.endsWith('Context:\nP.\n\nQuestion: Is it?\n\nOptions:\nA) True\nB) False\n\nReasoning:')).toBe(true);
    expect(() => buildPrompt({ ...problem, meta: {} }, info)).toThrow('meta.context');
    expect(() => buildPrompt(problem, { name: 'folio', template: 'logic' })).toThrow('loadDataset');
  });

  it('mbpp: the three-shot prompt with CR removed (task 11)', async () => {
    const { info, problems } = await first('mbpp');
    const expected = [
      'Please refer the given examples and generate a python function for my problem.',
      'Examples are listed as follows:',
      '- Example 1:',
      '>>> Problem:',
      'Write a function to find the similar elements from the given two tuple lists.',
      '>>> Test Cases:',
      'assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)',
      'assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)',
      'assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)',
      '',
      '>>> Code:',
      '```python',
      'def similar_elements(test_tup1, test_tup2):',
      '  res = tuple(set(test_tup1) & set(test_tup2))',
      '  return (res) ',
      '```',
      '',
      '- Example 2:',
      '>>> Problem:',
      'Write a python function to identify non-prime numbers.',
      '>>> Test Cases:',
      'assert is_not_prime(2) == False',
      'assert is_not_prime(10) == True',
      'assert is_not_prime(35) == True',
      '',
      '>>> Code:',
      '```python',
      'import math',
      'def is_not_prime(n):',
      '    result = False',
      '    for i in range(2,int(math.sqrt(n)) + 1):',
      '        if n % i == 0:',
      '            result = True',
      '    return result',
      '```',
      '',
      '- Example 3:',
      '>>> Problem:',
      'Write a function to find the largest integers from a given list of numbers using heap queue algorithm.',
      '>>> Test Cases:',
      'assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],3)==[85, 75, 65] ',
      'assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],2)==[85, 75] ',
      'assert heap_queue_largest( [25, 35, 22, 85, 14, 65, 75, 22, 58],5)==[85, 75, 65, 58, 35]',
      '',
      '>>> Code:',
      '```python',
      'import heapq as hq',
      'def heap_queue_largest(nums,n):',
      '  largest_nums = hq.nlargest(n, nums)',
      '  return largest_nums',
      '```',
      '',
      'Here is my problem:',
      '>>> Problem:',
      'Write a python function to remove first and last occurrence of a given character from the string.',
      '>>> Test Cases:',
      'assert remove_Occ("hello","l") == "heo"',
      'assert remove_Occ("abcda","a") == "bcd"',
      'assert remove_Occ("PHP","P") == "H"',
      '',
    ].join('\n');
    const prompt = buildPrompt(problems[0] as Problem, info);
    expect(prompt).toEqual([{ role: 'user', content: expected }]);
    expect(prompt[0]?.content.includes('\r')).toBe(false);
  });

  it('mbpp: tabs in shot code become four spaces', async () => {
    const { info, problems } = await first('mbpp');
    const withTabs = { ...info, promptAssets: { fewShotExamples: [{ text: 't', code: 'def f():\r\n\treturn 1', test_list: ['assert f() == 1'] }] } };
    const content = buildPrompt(problems[0] as Problem, withTabs)[0]?.content ?? '';
    expect(content).toContain('```python\ndef f():\n    return 1\n```');
  });

  it('deepscaler: the MASA training prompt in both modes', () => {
    const problem: Problem = { id: '0', question: 'Compute $2+3$.', answer: '5' };
    const expected = [{ role: 'user', content: "Compute $2+3$. Let's think step by step and output the final answer within \\boxed{}." }];
    expect(buildPrompt(problem, { name: 'deepscaler', template: 'deepscaler' })).toEqual(expected);
    expect(buildPrompt(problem, { name: 'deepscaler', template: 'deepscaler' }, { parity: true })).toEqual(expected);
  });

  it('verl: replays the row messages; a choice prompt without choices is an error', () => {
    const messages = [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'U' },
    ];
    expect(buildPrompt({ id: '1', question: 'U', answer: '1', meta: { prompt: messages } }, { name: 'x', template: 'verl' })).toEqual(messages);
    try {
      buildPrompt({ id: 'q9', question: 'Q', answer: 'A' }, { name: 'gpqa_diamond', template: 'science-choice' });
      throw new Error('expected an error');
    } catch (error: unknown) {
      expect(MasaError.hasCode(error, 'DATASET_INVALID')).toBe(true);
      expect((error as Error).message).toContain('"q9"');
    }
  });
});
