import { describe, expect, it } from 'vitest';
import { isBalanced, matchBrace, splitTopLevel, unwrapBrackets } from './latex-scan.js';
import { normalizeAnswerText, stripItemDecorations } from './normalize.js';
import { expandPlusMinus, isAssignmentTarget, parseAnswer } from './structure.js';

describe('latex-scan', () => {
  it('matches braces, skipping escaped ones', () => {
    expect(matchBrace('{a{b}c}d', 0)).toBe(6);
    expect(matchBrace('{\\{x\\}}', 0)).toBe(6);
    expect(matchBrace('{never', 0)).toBe(-1);
  });

  it('splits at top level only, with half-open intervals nesting', () => {
    expect(splitTopLevel('(1,2], 3, \\{4,5\\}', [','])).toEqual(['(1,2]', ' 3', ' \\{4,5\\}']);
    expect(splitTopLevel('1 and 2 or band', ['and', 'or'])).toEqual(['1 ', ' 2 ', ' band']);
    expect(splitTopLevel('a\\cup b \\cupx', ['\\cup'])).toEqual(['a', ' b \\cupx']);
  });

  it('finds whole-string brackets', () => {
    expect(unwrapBrackets('(1,2)')).toEqual({ open: '(', close: ')', inner: '1,2' });
    expect(unwrapBrackets('(1,2)(3,4)')).toBeUndefined();
    expect(unwrapBrackets('[0,1)')).toEqual({ open: '[', close: ')', inner: '0,1' });
    expect(unwrapBrackets('\\{1\\}')).toEqual({ open: '\\{', close: '\\}', inner: '1' });
    expect(isBalanced('((]')).toBe(false);
    expect(isBalanced('(()]')).toBe(true);
  });
});

describe('normalizeAnswerText', () => {
  it.each([
    ['$\\dfrac{1}{2}$', '\\frac{1}{2}'],
    ['\\left( 3, \\frac{\\pi}{2} \\right)', '( 3, \\frac{\\pi}{2} )'],
    ['10,\\!080', '10080'],
    ['1{,}000', '1000'],
    ['1\\,000\\,000', '1000000'],
    ['58,500', '58500'],
    ['1, 234', '1, 234'],
    ['90^\\circ', '90'],
    ['90°', '90'],
    ['\\$32', '32'],
    ['x \\in [-2,7]', '[-2,7]'],
    ['5.', '5'],
    ['x \\leqslant 3', 'x \\le 3'],
    ['a >= b', 'a \\le b'.replace('\\le', '\\ge')],
    ['\\varnothing', '\\emptyset'],
    ['infinity', '\\infty'],
    ['\\approx 10.8', '10.8'],
    ['\\boxed{10}', '10'],
    ['\\boxed{1}, \\boxed{2}', '\\boxed{1}, \\boxed{2}'],
    ['\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeAnswerText(input)).toBe(expected);
  });

  it('strips item decorations and remembers a percent sign', () => {
    expect(stripItemDecorations('62.5\\%')).toEqual({ text: '62.5', percent: true, unit: false });
    expect(stripItemDecorations('864 \\mbox{ inches}^2')).toEqual({ text: '864', percent: false, unit: true });
    expect(stripItemDecorations('12 cm')).toEqual({ text: '12', percent: false, unit: true });
    expect(stripItemDecorations('3 apples')).toEqual({ text: '3', percent: false, unit: true });
    expect(stripItemDecorations('3 sin').text).toBe('3 sin');
    // A lone word, or a single upright letter after a value, is not a unit.
    expect(stripItemDecorations('\\text{Evelyn}').text).toBe('\\text{Evelyn}');
    expect(stripItemDecorations('2\\mathrm{e}').text).toBe('2\\mathrm{e}');
  });
});

describe('structure', () => {
  it('reads the answer shapes', () => {
    expect(parseAnswer('1,2').type).toBe('list');
    expect(parseAnswer('\\{1,2\\}')).toMatchObject({ type: 'list', braces: true });
    expect(parseAnswer('(1,2]')).toMatchObject({ type: 'tuple', open: '(', close: ']' });
    expect(parseAnswer('(0,1)\\cup(2,3)').type).toBe('union');
    expect(parseAnswer('x=5')).toMatchObject({ type: 'equation', target: true });
    expect(parseAnswer('x+y=5')).toMatchObject({ type: 'equation', target: false });
    expect(parseAnswer('1 < x \\le 2')).toMatchObject({ type: 'inequality', variable: 'x' });
    expect(parseAnswer('\\text{(D)}')).toEqual({ type: 'choice', letter: 'D' });
    expect(parseAnswer('\\text{Evelyn}')).toEqual({ type: 'word', word: 'evelyn' });
    expect(parseAnswer('204_5')).toEqual({ type: 'based', digits: '204', base: 5 });
    expect(parseAnswer('E_{1}').type).toBe('scalar'); // a subscripted symbol, not a base
    expect(parseAnswer('\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}')).toMatchObject({ type: 'matrix' });
    expect(parseAnswer('')).toEqual({ type: 'empty' });
  });

  it('expands \\pm and \\mp into two items', () => {
    expect(expandPlusMinus('1\\pm\\sqrt{2}')).toEqual(['1+\\sqrt{2}', '1-\\sqrt{2}']);
    expect(expandPlusMinus('\\pm 3')).toEqual(['3', '-3']);
    expect(expandPlusMinus('a\\pm b\\pm c')).toHaveLength(4);
  });

  it('knows assignment targets', () => {
    for (const target of ['x', 'k', 'a_1', 'm_{\\max }', 'f(x)', '\\theta', 'g(x, y)']) expect(isAssignmentTarget(target), target).toBe(true);
    for (const other of ['x+1', '2', '\\frac{1}{2}', 'xy z', '\\pi']) expect(isAssignmentTarget(other), other).toBe(false);
  });
});
