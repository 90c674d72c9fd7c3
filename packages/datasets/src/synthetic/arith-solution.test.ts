import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { generateArithProblem, isAllowedArithStep, type ArithOp, type ArithProblem } from './arith-problem.js';
import { columnWork, gradeArithResponse, renderArithSolution, renderArithStep, sampleArithSolution } from './arith-solution.js';

describe('columnWork (hand-worked examples)', () => {
  it.each([
    // TINY-TASK §1
    ['+', 47, 38, '7+8=15 carry 1, 4+3+1=8', true, false],
    ['-', 305, 17, '15-7=8 borrow 1, 10-1-1=8 borrow 1, 3-1=2', false, true],
    ['*', 66, 3, '6*3=18 carry 1, 6*3+1=19', true, false],
    // more, worked by hand
    ['+', 2, 2, '2+2=4', false, false],
    ['+', 95, 17, '5+7=12 carry 1, 9+1+1=11', true, false], // no "carry" in the last column
    ['+', 347, 38, '7+8=15 carry 1, 4+3+1=8', true, false], // stops: the 3 is copied
    ['+', 5, 38, '5+8=13 carry 1, 3+1=4', true, false], // first operand shorter
    ['+', 50, 60, '0+0=0, 5+6=11', false, false], // a sum >= 10 in the last column is not a carry
    ['-', 100, 1, '10-1=9 borrow 1, 10-1=9 borrow 1, 1-1=0', false, true],
    ['-', 58, 23, '8-3=5, 5-2=3', false, false],
    ['-', 903, 23, '3-3=0, 10-2=8 borrow 1, 9-1=8', false, true],
    ['*', 105, 3, '5*3=15 carry 1, 0*3+1=1, 1*3=3', true, false],
    ['*', 99, 9, '9*9=81 carry 8, 9*9+8=89', true, false],
    ['*', 4, 7, '4*7=28', false, false],
  ] as [ArithOp, number, number, string, boolean, boolean][])('%s %i %i', (op, a, b, text, carry, borrow) => {
    expect(columnWork({ op, a, b })).toEqual({ text, carry, borrow });
  });
});

describe('renderArithStep', () => {
  const step = { op: '+' as const, a: 47, b: 38, result: 85 };
  it('writes the three styles', () => {
    expect(renderArithStep(step, 'short')).toBe('47 + 38 = 85.');
    expect(renderArithStep(step, 'named')).toBe('Addition with carry: 47 + 38 = 85.');
    expect(renderArithStep(step, 'long')).toBe('47 + 38: 7+8=15 carry 1, 4+3+1=8, so 85.');
    expect(renderArithStep({ op: '-', a: 305, b: 17, result: 288 }, 'long')).toBe('305 - 17: 15-7=8 borrow 1, 10-1-1=8 borrow 1, 3-1=2, so 288.');
    expect(renderArithStep({ op: '-', a: 305, b: 17, result: 288 }, 'named')).toBe('Subtraction with borrow: 305 - 17 = 288.');
    expect(renderArithStep({ op: '-', a: 58, b: 23, result: 35 }, 'named')).toBe('Subtraction: 58 - 23 = 35.');
    expect(renderArithStep({ op: '*', a: 66, b: 3, result: 198 }, 'named')).toBe('Multiplication with carry: 66 * 3 = 198.');
    expect(renderArithStep({ op: '*', a: 66, b: 3, result: 198 }, 'long')).toBe('66 * 3: 6*3=18 carry 1, 6*3+1=19, so 198.');
  });

  it('joins sentences with spaces and ends with the boxed answer', () => {
    const problem: ArithProblem = {
      text: 'Compute (47 + 38) * 3.',
      start: 47,
      steps: [
        { op: '+', a: 47, b: 38, result: 85 },
        { op: '*', a: 85, b: 3, result: 255 },
      ],
      answer: 255,
      k: 2,
      dmax: 2,
    };
    expect(renderArithSolution(problem, ['named', 'long'])).toBe(
      'Addition with carry: 47 + 38 = 85. 85 * 3: 5*3=15 carry 1, 8*3+1=25, so 255. The answer is \\boxed{255}.',
    );
  });
});

/** Re-derives a step's result from its written columns alone (independent of the generator's arithmetic). */
function resultFromColumns(op: ArithOp, a: number, text: string): number {
  const columns = text.split(', ');
  const written: number[] = [];
  columns.forEach((column, index) => {
    const [lhs, rest] = column.split('=') as [string, string];
    const value = Number(rest.split(' ')[0]);
    // Each column's own arithmetic must hold.
    const evaluated = op === '*' ? lhs.split('+').reduce((total, term) => total + term.split('*').reduce((p, x) => p * Number(x), 1), 0) : op === '+' ? lhs.split('+').reduce((t, x) => t + Number(x), 0) : lhs.split('-').slice(1).reduce((t, x) => t - Number(x), Number(lhs.split('-')[0]));
    expect(evaluated, column).toBe(value);
    const last = index === columns.length - 1;
    written.push(last ? value : value % 10);
  });
  // Digits above the written columns are copied from the first operand.
  const copied = Math.floor(a / 10 ** columns.length);
  let result = 0;
  written.forEach((value, index) => (result += value * 10 ** index));
  return result + copied * 10 ** columns.length;
}

describe('column work reproduces the result (3,000 random allowed steps)', () => {
  it('every column is right and the columns give a op b', () => {
    const rng = createRng('columns');
    let checked = 0;
    while (checked < 3000) {
      const op = (['+', '-', '*'] as const)[rng.int(0, 2)] as ArithOp;
      const a = rng.int(0, 999);
      const b = op === '*' ? rng.int(2, 9) : rng.int(1, 999);
      if (!isAllowedArithStep(op, a, b)) continue;
      const expected = op === '+' ? a + b : op === '-' ? a - b : a * b;
      const work = columnWork({ op, a, b });
      expect(resultFromColumns(op, a, work.text), `${a} ${op} ${b}`).toBe(expected);
      expect(work.carry).toBe(/carry/.test(work.text));
      expect(work.borrow).toBe(/borrow/.test(work.text));
      checked += 1;
    }
  });
});

describe('sampleArithSolution', () => {
  it('is deterministic for a seed and ends with the right boxed answer', () => {
    const problems = Array.from({ length: 50 }, (_, index) => generateArithProblem(createRng(index), { mix: 'rl-hard' }));
    const first = problems.map((problem, index) => sampleArithSolution(problem, createRng(`s${index}`)).text);
    const second = problems.map((problem, index) => sampleArithSolution(problem, createRng(`s${index}`)).text);
    expect(second).toEqual(first);
    first.forEach((text, index) => expect(gradeArithResponse(text, (problems[index] as ArithProblem).answer)).toBe(true));
  });

  it('draws styles about 40/25/35% and fits the context budget by downgrading long steps', () => {
    const rng = createRng('styles');
    const counts = { short: 0, named: 0, long: 0 };
    let steps = 0;
    let downgradedSomewhere = false;
    for (let index = 0; index < 3000; index++) {
      const problem = generateArithProblem(rng, { mix: 'rl-hard' });
      const solution = sampleArithSolution(problem, rng, { contextChars: 320 });
      for (const style of solution.styles) counts[style] += 1;
      steps += solution.styles.length;
      expect(problem.text.length + 1 + solution.text.length + 1).toBeLessThanOrEqual(320);
      const allLong = renderArithSolution(problem, problem.steps.map(() => 'long'));
      if (problem.text.length + 1 + allLong.length + 1 > 256) {
        const tight = sampleArithSolution(problem, createRng(index), { contextChars: 256 });
        const shortest = renderArithSolution(problem, problem.steps.map(() => 'named')).length;
        if (problem.text.length + shortest + 2 <= 256) expect(problem.text.length + 1 + tight.text.length + 1).toBeLessThanOrEqual(256);
        downgradedSomewhere = true;
      }
    }
    // Binomial standard error at n ≈ 9,000 steps is ≤ 0.0053; allow 4 sigma.
    expect(Math.abs(counts.short / steps - 0.4)).toBeLessThan(0.022);
    expect(Math.abs(counts.named / steps - 0.25)).toBeLessThan(0.022);
    expect(Math.abs(counts.long / steps - 0.35)).toBeLessThan(0.022);
    expect(downgradedSomewhere).toBe(true);
  });
});

describe('gradeArithResponse', () => {
  it('reads the last boxed integer', () => {
    expect(gradeArithResponse('x \\boxed{3} y \\boxed{42}.', 42)).toBe(true);
    expect(gradeArithResponse('\\boxed{42} then \\boxed{41}', '42')).toBe(false);
    expect(gradeArithResponse('The answer is 42.', 42)).toBe(false);
    expect(gradeArithResponse('\\boxed{4.2e1}', 42)).toBe(false);
  });
});
