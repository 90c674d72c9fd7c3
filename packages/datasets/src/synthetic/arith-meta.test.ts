import { describe, expect, it } from 'vitest';
import { ARITH_NOTIONS, arithMetaPrompt, arithMetaTarget, arithSolutionPrompt, roundHalfEven } from './arith-meta.js';
import { parseArithProblem } from './arith-problem.js';

describe('arith prompts', () => {
  it('solution prompt = problem + newline; meta prompt = "Meta: " + solution prompt', () => {
    const problem = parseArithProblem('Compute 47 + 38.');
    expect(arithSolutionPrompt(problem)).toBe('Compute 47 + 38.\n');
    expect(arithMetaPrompt(problem)).toBe('Meta: Compute 47 + 38.\n');
  });
});

describe('arithMetaTarget (values worked by hand)', () => {
  it('47 + 38: notions, pass rate round(8·0.85)=7, length 0.4·13+0.25·34+0.35·40+1+25+1 = 54.7 → 55', () => {
    expect(arithMetaTarget(parseArithProblem('Compute 47 + 38.'))).toEqual({
      notions: ['addition', 'carry'],
      passRate: 7,
      solutionLength: 55,
      json: '{"math_notion": ["addition", "carry"], "pass_rate": 7, "solution_length": 55}',
    });
  });

  it('(47 + 38) * 3 - 19: 8·0.85·0.85·0.78 = 4.508 → 5; 28.7 + 30.55 + 32.05 + 27 = 118.3 → 118', () => {
    const target = arithMetaTarget(parseArithProblem('Compute (47 + 38) * 3 - 19.'));
    expect(target.notions).toEqual(['addition', 'multiplication', 'subtraction', 'carry', 'borrow']);
    expect(target.passRate).toBe(5);
    expect(target.solutionLength).toBe(118);
    expect(JSON.parse(target.json)).toEqual({ math_notion: target.notions, pass_rate: 5, solution_length: 118 });
    expect(target.json.startsWith('{"math_notion": [')).toBe(true);
  });

  it('5 - 3: one-digit subtraction without borrow → round(8·0.97)=8', () => {
    expect(arithMetaTarget(parseArithProblem('Compute 5 - 3.'))).toMatchObject({ notions: ['subtraction'], passRate: 8 });
  });

  it('rounds half to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, 6.8, 4.4999].map(roundHalfEven)).toEqual([0, 2, 2, 4, 7, 4]);
    expect(ARITH_NOTIONS).toEqual(['addition', 'subtraction', 'multiplication', 'carry', 'borrow']);
  });
});
