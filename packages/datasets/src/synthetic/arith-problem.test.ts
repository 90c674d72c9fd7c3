import { createRng, MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { ARITH_MIXES, formatArithExpression, generateArithProblem, parseArithProblem, type ArithMixName, type ArithProblem } from './arith-problem.js';

/** Evaluates + - * with the usual precedence and parentheses (independent recursive-descent parser). */
function evaluateWithPrecedence(source: string): number {
  const tokens = source.match(/\d+|[-+*()]/g) ?? [];
  let position = 0;
  const peek = (): string | undefined => tokens[position];
  const take = (): string => tokens[position++] as string;
  const factor = (): number => {
    if (peek() === '(') {
      take();
      const value = sum();
      expect(take()).toBe(')');
      return value;
    }
    return Number(take());
  };
  const product = (): number => {
    let value = factor();
    while (peek() === '*') {
      take();
      value *= factor();
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') value = take() === '+' ? value + product() : value - product();
    return value;
  };
  const value = sum();
  expect(position).toBe(tokens.length);
  return value;
}

function sample(mix: ArithMixName, count: number, seed: string): ArithProblem[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => generateArithProblem(rng, { mix }));
}

const NOTION = /addition|subtraction|multiplication|carry|borrow/i;

describe('generateArithProblem', () => {
  it.each(['prototype', 'rl-hard'] as ArithMixName[])('%s: constraints, answers and statements hold on 3,000 problems', (mix) => {
    for (const problem of sample(mix, 3000, `constraints-${mix}`)) {
      expect(problem.k).toBeGreaterThanOrEqual(1);
      expect(problem.k).toBeLessThanOrEqual(4);
      expect(problem.steps).toHaveLength(problem.k);
      expect(String(problem.start)).toHaveLength(problem.dmax);
      let value = problem.start; // left-to-right evaluation, done here from the operands
      for (const step of problem.steps) {
        expect(step.a).toBe(value);
        if (step.op === '+') value += step.b;
        else if (step.op === '-') {
          expect(step.b).toBeGreaterThanOrEqual(1);
          value -= step.b;
        } else {
          expect(step.b).toBeGreaterThanOrEqual(2);
          expect(step.b).toBeLessThanOrEqual(9);
          value *= step.b;
        }
        expect(step.result).toBe(value);
        expect(value >= 0 && value <= 999).toBe(true);
        if (step.op !== '*' && step.b !== 1) expect(String(step.b).length).toBeLessThanOrEqual(problem.dmax);
      }
      expect(problem.answer).toBe(value);
      expect(problem.text.startsWith('Compute ') && problem.text.endsWith('.')).toBe(true);
      expect(evaluateWithPrecedence(problem.text.slice(8, -1))).toBe(problem.answer);
      expect(problem.text).not.toMatch(NOTION);
    }
  });

  it('rl-hard follows its k and digit weights (20,000 draws, ±0.015)', () => {
    const problems = sample('rl-hard', 20000, 'weights');
    const share = (test: (problem: ArithProblem) => boolean): number => problems.filter(test).length / problems.length;
    ARITH_MIXES['rl-hard'].kWeights.forEach((weight, index) => expect(Math.abs(share((problem) => problem.k === index + 1) - weight)).toBeLessThan(0.015));
    ARITH_MIXES['rl-hard'].digitWeights.forEach((weight, index) => expect(Math.abs(share((problem) => problem.dmax === index + 1) - weight)).toBeLessThan(0.015));
    // the harder mix really is harder than the prototype's
    const meanK = (list: ArithProblem[]): number => list.reduce((total, problem) => total + problem.k, 0) / list.length;
    expect(meanK(problems)).toBeGreaterThan(meanK(sample('prototype', 20000, 'weights')) + 0.3);
  });

  it('is deterministic for a seed', () => {
    expect(sample('prototype', 100, 'same')).toEqual(sample('prototype', 100, 'same'));
    expect(sample('prototype', 100, 'same')).not.toEqual(sample('prototype', 100, 'other'));
  });

  it('rejects an unknown mix', () => {
    expect(() => generateArithProblem(createRng(1), { mix: 'hard' as ArithMixName })).toThrow('prototype or rl-hard');
  });
});

describe('formatArithExpression and parseArithProblem', () => {
  it('adds parentheses only where precedence needs them', () => {
    const steps = [
      { op: '+' as const, b: 38 },
      { op: '*' as const, b: 3 },
      { op: '-' as const, b: 19 },
    ];
    expect(formatArithExpression(47, steps)).toBe('(47 + 38) * 3 - 19');
    expect(formatArithExpression(6, [{ op: '*', b: 3 }, { op: '*', b: 2 }, { op: '+', b: 1 }, { op: '*', b: 4 }])).toBe('(6 * 3 * 2 + 1) * 4');
    expect(formatArithExpression(5, [])).toBe('5');
  });

  it('round-trips generated problems and rejects other text', () => {
    for (const problem of sample('rl-hard', 500, 'parse')) expect(parseArithProblem(problem.text)).toEqual(problem);
    for (const text of ['Compute 1 +.', 'What is 2 + 2?', 'Compute (1 + 2) + 3.', 'Compute 1 / 2.']) {
      expect(() => parseArithProblem(text)).toThrow(MasaError);
    }
  });
});
