/**
 * MASA parity mode reproduces the reference grader's documented quirks
 * (issue 2, acceptance 4). Expected values are worked out by hand from the
 * reference's Python (`grader.py`, `utils.py`, `eval/utils.py`), step by step,
 * as the comments say; correct mode is shown to disagree where the quirk is a
 * bug.
 */
import { describe, expect, it } from 'vitest';
import { gradeSync } from '../grade.js';
import { mathEqual } from '../math-equal.js';
import { masaChoiceOf, masaResponseChoice } from './masa-extract.js';
import { masaMathEqual, masaParseDigits } from './masa-math-equal.js';

const parity = (gold: string, pred: string): boolean => mathEqual(gold, pred, { mode: 'masa-parity' }).equal;
const correct = (gold: string, pred: string): boolean => mathEqual(gold, pred).equal;

describe('masa-parity quirks (named for the reference behaviour)', () => {
  it('12345 = 12346 via rel_tol 1e-4 (|diff| = 1 <= 1e-4 * 12346)', () => {
    expect(masaMathEqual('12346', '12345')).toEqual({ equal: true, reason: 'parity-2-numeric-ref' });
    expect(parity('12345', '12346')).toBe(true);
    expect(correct('12345', '12346')).toBe(false);
    // Outside the tolerance: |diff| = 2 > 1e-4 * 12347 = 1.2347.
    expect(parity('12345', '12347')).toBe(false);
  });

  it('25 = 2500 via the ×100 variant (and 2500 = 25 via ÷100)', () => {
    expect(masaMathEqual('2500', '25')).toEqual({ equal: true, reason: 'parity-2-numeric-ref*100' });
    expect(masaMathEqual('25', '2500')).toEqual({ equal: true, reason: 'parity-2-numeric-ref/100' });
    expect(correct('25', '2500')).toBe(false);
  });

  it('10 = 0.1 via the ×100 variant (percent confusion)', () => {
    expect(parity('0.1', '10')).toBe(true);
    expect(correct('10', '0.1')).toBe(false);
  });

  it('7,14,18 = 7,14,19: commas are deleted before reading the number (71418 vs 71419)', () => {
    expect(masaParseDigits('7,14,18')).toBe(71418);
    expect(parity('7,14,18', '7,14,19')).toBe(true);
    expect(correct('7,14,18', '7,14,19')).toBe(false);
  });

  it("float('204_5') == 2045: Python's float accepts underscores", () => {
    expect(masaParseDigits('204_5')).toBe(2045);
    expect(masaMathEqual('2045', '204_5').equal).toBe(true);
  });

  it('unordered lists are rejected: 1,2 vs 2,1 reads 12 vs 21, and the numeric test is final', () => {
    expect(masaMathEqual('2,1', '1,2')).toEqual({ equal: false, reason: 'parity-2-numeric-mismatch' });
    expect(correct('1,2', '2,1')).toBe(true);
  });

  it('interval brackets are ignored: (1,2] = [1,2) element by element', () => {
    expect(masaMathEqual('(1,2]', '[1,2)')).toEqual({ equal: true, reason: 'parity-6-elementwise' });
    expect(correct('[1,2)', '(1,2]')).toBe(false);
  });

  it('x \\le 3 = x<3: the relation rule compares |lhs - rhs| only', () => {
    expect(masaMathEqual('x<3', 'x\\le3').equal).toBe(true);
    expect(correct('x \\le 3', 'x<3')).toBe(false);
  });

  it('strip_string deletes every "and": 1 and 2 becomes 12', () => {
    expect(parity('12', '1 and 2')).toBe(true);
  });

  it('a short assignment on one side is unwrapped (k=3 vs 3)', () => {
    expect(masaMathEqual('k=3', '3').equal).toBe(true);
  });

  it('the exact-string and bracket-insensitive steps', () => {
    expect(masaMathEqual('\\frac{1}{2}', '\\frac{1}{2}').reason).toBe('parity-1-exact-string');
    expect(masaMathEqual('{Evelyn}', 'Evelyn').reason).toBe('parity-5-bracket-insensitive');
  });

  it('an empty prediction is never equal (unless the gold is empty too)', () => {
    expect(masaMathEqual('', '5')).toEqual({ equal: false, reason: 'parity-3-empty' });
    expect(masaMathEqual('', '').equal).toBe(true);
  });

  it('symbolic step: sqrt forms and polynomials', () => {
    expect(masaMathEqual('\\frac{\\sqrt{3}}{3}', '\\frac{1}{\\sqrt{3}}').equal).toBe(true);
    expect(masaMathEqual('x^2+2x+1', '(x+1)^2').equal).toBe(true);
    expect(masaMathEqual('x^2+2x+2', '(x+1)^2').equal).toBe(false);
  });

  it('symbolic step: numbers within rel 1e-4 after evaluation (pi vs 3.1416)', () => {
    // |3.1416 - pi| = 7.3e-6 <= 1e-4 * pi
    expect(masaMathEqual('3.1416', '\\pi').equal).toBe(true);
    expect(masaMathEqual('3.15', '\\pi').equal).toBe(false);
  });

  it('matrices cell by cell', () => {
    const gold = '\\begin{pmatrix}1\\\\2\\end{pmatrix}';
    expect(masaMathEqual('\\begin{pmatrix}1\\\\2\\end{pmatrix}', gold).equal).toBe(true);
    expect(masaMathEqual('\\begin{pmatrix}1\\\\3\\end{pmatrix}', gold).equal).toBe(false);
  });
});

describe('masa-parity choice extractor (get_choice) quirks', () => {
  it('reads the article "a" as A (first standalone letter a–h)', () => {
    expect(masaChoiceOf('This is a hard one; the result is C.')).toBe('A');
    expect(gradeSync({ kind: 'choice', gold: 'C', response: 'This is a hard one; the result is C.', mode: 'masa-parity' }).equal).toBe(false);
    expect(gradeSync({ kind: 'choice', gold: 'C', response: 'This is a hard one; the result is C.' }).equal).toBe(false);
  });

  it('a leading article counts too: "a cat …" is A', () => {
    expect(masaChoiceOf('a cat sat on the mat')).toBe('A');
  });

  it('the bracket rule fires before the answer phrases: "Let f(a) = 3 … the answer is C." is A', () => {
    expect(masaChoiceOf('Let f(a) = 3, so the answer is C.')).toBe('A');
    // Correct mode reads the phrase.
    expect(gradeSync({ kind: 'choice', gold: 'C', response: 'Let f(a) = 3, so the answer is C.' }).equal).toBe(true);
  });

  it('the first box wins, not the last', () => {
    expect(masaChoiceOf('I considered \\boxed{A} but final: \\boxed{B}')).toBe('A');
    expect(gradeSync({ kind: 'choice', gold: 'B', response: 'I considered \\boxed{A} but final: \\boxed{B}' }).equal).toBe(true);
  });

  it('\\boxed{\\text{C}} is C through the bracket rule ({C})', () => {
    expect(masaChoiceOf('\\boxed{\\text{C}}')).toBe('C');
  });

  it('a numeric gold (ARC) reads as None, so an answer without letters scores correct', () => {
    expect(masaChoiceOf('2')).toBeNull();
    const verdict = gradeSync({ kind: 'choice', gold: '2', response: 'I do not know', mode: 'masa-parity' });
    expect(verdict.equal).toBe(true);
    expect(verdict.reason).toBe('parity-choice-both-none');
    // …and an answer with a stray a–h letter scores wrong.
    expect(gradeSync({ kind: 'choice', gold: '2', response: 'Option 2 is a good one', mode: 'masa-parity' }).equal).toBe(false);
  });

  it('the prefix rule: "Answer: b" is B', () => {
    expect(masaChoiceOf('Answer: b')).toBe('B');
  });

  it('logic sets: the text after the last "The correct option is:"', () => {
    expect(masaResponseChoice('The correct option is: A\n… The correct option is: C', true)).toBe('C');
    expect(masaResponseChoice('no label phrase, answer is (D)', true)).toBe('D');
  });
});
