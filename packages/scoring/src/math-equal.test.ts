/**
 * The grader's own table (issue 2, acceptance 3): answer pairs written by
 * hand, each with the verdict the grading policy (SCORING.md §5) demands.
 * Every expected value was decided by hand from the mathematics, not from the
 * grader's output.
 */
import { describe, expect, it } from 'vitest';
import { mathEqual } from './math-equal.js';

type Row = readonly [gold: string, pred: string, equal: boolean];

const TABLE: Readonly<Record<string, readonly Row[]>> = {
  fractions: [
    ['\\frac{1}{2}', '0.5', true],
    ['\\frac12', '1/2', true],
    ['\\frac{2}{4}', '\\frac{1}{2}', true], // unreduced fractions are accepted
    ['\\dfrac{3}{4}', '\\tfrac{3}{4}', true],
    ['2\\frac{1}{2}', '\\frac{5}{2}', true], // mixed number
    ['1\\frac{4}{5}', '1.8', true],
    ['-\\frac{35}{9}', '\\frac{-35}{9}', true],
    ['\\frac{3}{56}', '\\frac{3}{65}', false],
    ['\\frac{1}{3}', '0.3', false],
    ['\\frac{9}{19}', '\\frac{19}{9}', false],
    ['\\frac{448}{15625}', '0.028672', true],
    ['\\frac 59', '5/9', true],
  ],
  units: [
    ['12\\text{ cm}', '12', true],
    ['864 \\mbox{ inches}^2', '864', true],
    ['15\\mbox{ cm}^2', '15 \\text{ cm}^2', true],
    ['5.4 \\text{ cents}', '5.4', true],
    ['\\$32,\\!348', '32348', true],
    ['\\$18.90', '18.9', true],
    ['6.5 \\mathrm{~m}', '6.5', true],
    ['12\\text{ cm}', '13 \\text{ cm}', false],
    ['\\$36', '\\$63', false],
    ['40 \\text{ miles}', '40 miles', true],
    ['12', '12 ways', true],
    ['12', '13 ways', false],
  ],
  percent: [
    ['10\\%', '10', true],
    ['10\\%', '0.1', true],
    ['10\\%', '10 \\%', true],
    ['62.5%', '0.625', true],
    ['17.5\\%', '17.5', true],
    ['10', '10\\%', true], // a stray percent on the prediction alone is formatting
    ['10', '0.1', false],
    ['10\\%', '1', false],
    ['8 \\%', '0.8', false],
    ['50\\%', '0.5\\%', false],
  ],
  degrees: [
    ['90^\\circ', '90', true],
    ['90^\\circ', '90°', true],
    ['145^{\\circ}', '145 degrees', true],
    ['\\frac{270}7\\text{ degrees}', '\\frac{270}{7}', true],
    ['90^\\circ', '\\frac{\\pi}{2}', false], // stripped, never converted
    ['30^\\circ', '60^\\circ', false],
    ['(45^{\\circ}, 60^{\\circ})', '(45, 60)', true],
    ['18.8^{\\circ}', '18.8', true],
    ['336^\\circ', '336', true],
    ['76^\\circ', '67^\\circ', false],
  ],
  equations: [
    ['x=5', '5', true],
    ['5', 'x = 5', true],
    ['x=5', 'x=-5', false],
    ['y = 2x + 3', '2x+3', true],
    ['y=2x+3', 'y=2x-3', false],
    ['y=2x+3', '2x+3=y', true],
    ['3x+1=0', '6x+2=0', true],
    ['5x - 7y + 11z + 4 = 0', '-5x + 7y - 11z - 4 = 0', true],
    ['5x - 7y + 11z + 4 = 0', '5x - 7y + 11z - 4 = 0', false],
    ['f(x)=2x', '2x', true],
    ['n=k+4', 'n=k+5', false],
    ['3x-y+13=0', '3x+4y+14=0', false],
    ['y = -2x', 'y=-2x', true],
    ['k=3', 'k = 4', false],
  ],
  sets: [
    ['1,2', '2,1', true], // lists are unordered
    ['1,-2', '-2, 1', true],
    ['3, 5, 7', '7, 3, 5', true],
    ['7,14,18', '7,14,19', false],
    ['\\{1\\pm\\sqrt{5},-2\\}', '-2, 1+\\sqrt{5}, 1-\\sqrt{5}', true],
    ['1 \\pm \\sqrt{19}', '1+\\sqrt{19}, 1-\\sqrt{19}', true],
    ['1 \\pm \\sqrt{19}', '1+\\sqrt{19}', false],
    ['\\{1,2,3\\}', '\\{3,2,1\\}', true],
    ['1,2', '1,2,3', false],
    ['2,2,3', '2,3,3', false], // multisets, not sets
    ['\\emptyset', '\\varnothing', true],
    ['1, 3 \\text{ and } 5', '1,3,5', true],
  ],
  tuples: [
    ['(6,31,-1)', '(6, 31, -1)', true],
    ['(6,31,-1)', '(31,6,-1)', false], // tuples are ordered
    ['\\left( 3, \\frac{\\pi}{2} \\right)', '(3,\\frac{\\pi}{2})', true],
    ['(1,-16,-4,43)', '(1,-16,-4,42)', false],
    ['(15,-29)', '\\left(15, -29\\right)', true],
    ['(1,1), (3,2)', '(3,2), (1,1)', true],
    ['(1,1), (3,2)', '(1,1), (2,3)', false],
    ['(2,251,252)', '2, 251, 252', false], // a bracketed gold is an ordered tuple
    ['\\left( \\frac{3}{2}, -13 \\right)', '(1.5,-13)', true],
    ['(8,-2)', '(8,2)', false],
  ],
  intervals: [
    ['(3,4]', '(3,4]', true],
    ['(3,4]', '(3,4)', false],
    ['(-\\infty, 0]', '(-\\infty,0]', true],
    ['[-2,7]', 'x \\in [-2,7]', true],
    ['(2,\\infty)', '(2, \\infty)', true],
    ['(2,\\infty)', '[2,\\infty)', false],
    ['(0,9) \\cup (9,36)', '(9,36) \\cup (0,9)', true],
    ['(-\\infty, 2) \\cup (3, \\infty)', '(-\\infty,2)\\cup(3,\\infty)', true],
    ['(-\\infty, 2) \\cup (3, \\infty)', '(-\\infty,2]\\cup(3,\\infty)', false],
    ['\\mathbb{R}', '(-\\infty,\\infty)', true],
    ['\\left(\\frac{3}{5},\\frac{8}{3}\\right]', '(0.6, 8/3]', true],
    ['(-\\infty,3]', 'x \\le 3', false], // an interval gold rejects an inequality
  ],
  inequalities: [
    ['x \\le 3', '(-\\infty, 3]', true],
    ['x \\le 3', 'x<3', false],
    ['1<x<2', '(1,2)', true],
    ['k \\geqslant 2', '[2,\\infty)', true],
    ['k \\geqslant 2', 'k \\ge 2', true],
    ['k \\geqslant 2', '2 \\le k', true],
    ['x > 5', '(5, \\infty)', true],
    ['x > 5', '[5, \\infty)', false],
    ['-80 \\le g(x) \\le 82', '[-80, 82]', true],
    ['x \\ge 1', 'y \\ge 1', false],
  ],
  radicals: [
    ['\\frac{\\sqrt{3}}{3}', '\\frac{1}{\\sqrt{3}}', true], // rationalised or not
    ['2\\sqrt{5}', '\\sqrt{20}', true],
    ['11\\sqrt2', '11\\sqrt{2}', true],
    ['3\\sqrt{13}', '\\sqrt{117}', true],
    ['3\\sqrt{13}', '\\sqrt{118}', false],
    ['\\frac{8}{\\sqrt[3]{7}}', '8 \\cdot 7^{-1/3}', true],
    ['5 \\sqrt[3]{4}', '\\sqrt[3]{500}', true],
    ['\\sqrt{17}', '4.1231056', true],
    ['4\\sqrt{2}', '4', false],
    ['2-\\sqrt{3}', '\\frac{1}{2+\\sqrt{3}}', true],
  ],
  polynomials: [
    ['(x+1)^2', 'x^2+2x+1', true], // form is not graded
    ['x^3+3x-6', '3x + x^3 - 6', true],
    ['x^3+3x-6', 'x^3+3x+6', false],
    ['(a+5)(b+2)', 'ab+2a+5b+10', true],
    ['6r^2-4r-24', '2(3r^2-2r-12)', true],
    ['x^5 - x^4 + x^3 - x^2 + x - 1', '(x-1)(x^4+x^2+1)', true],
    ['2k+2', '2(k+1)', true],
    ['2k+2', '2k+1', false],
    ['p - q', 'q - p', false],
    ['p - q', '-q + p', true],
    ['|x|', 'x', false],
    ['\\frac{x}{2}', '0.5x', true],
    ['2(13.1x+1)', '26.2x+2', true],
  ],
  complex: [
    ['6 - 5i', '6-5i', true],
    ['6 - 5i', '-5i + 6', true],
    ['6 - 5i', '6+5i', false],
    ['1+274i', '274i+1', true],
    ['e^{i\\pi}', '-1', true],
    ['\\sqrt{-1}', 'i', true],
    ['-2 + 7i', '-2+7i', true],
    ['1 - 12i', '1-21i', false],
    ['(1+i)^2', '2i', true],
    ['\\frac{1}{i}', '-i', true],
  ],
  matrices: [
    ['\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}', '\\left(-\\frac13, \\frac23, \\frac53\\right)', true], // column vector = tuple
    ['\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', '\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}', true],
    ['\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', '\\begin{pmatrix} -1 & 0 \\\\ 0 & 1 \\end{pmatrix}', false],
    ['\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}', '\\begin{pmatrix}-2\\\\-14\\\\-7\\end{pmatrix}', true],
    ['\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}', '\\begin{pmatrix}-2\\\\-7\\\\-14\\end{pmatrix}', false],
    ['\\begin{pmatrix} 16/49 \\\\ 48/49 \\\\ 24/49 \\end{pmatrix}', '\\begin{pmatrix} \\frac{16}{49} \\\\ \\frac{48}{49} \\\\ \\frac{24}{49} \\end{pmatrix}', true],
    ['\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', '\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}', false],
    ['\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}', '(0.2, -3.6)', true],
    ['\\begin{pmatrix} 1 & 2 \\end{pmatrix}', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', false],
  ],
  choices: [
    ['\\text{(C)}', 'C', true],
    ['\\text{(C)}', '(C)', true],
    ['\\text{(B)}', '(B) 12', true],
    ['\\text{(B)}', '\\textbf{(B)}', true],
    ['\\text{(E)}', '\\textbf{(E) }5', true],
    ['\\text{(C)}', 'D', false],
    ['\\text{(C)}', '(D) 12', false],
    ['(A)', 'A', true],
    ['\\text{(B)}', '12', false],
  ],
  text: [
    ['\\text{Evelyn}', 'Evelyn', true],
    ['\\text{east}', '\\text{East}', true],
    ['\\text{even}', 'even', true],
    ['\\text{even}', 'odd', false],
    ['\\text{ellipse}', '\\text{(D) ellipse}', false],
    ['\\text{Navin}', '\\text{Navin}', true],
    ['\\text{Navin}', 'Luka', false],
    ['\\text{two}', '2', true], // number words are numbers
    ['3', 'three', true],
    ['10', '\\boxed{10}', true],
    ['\\text{13}', '13', true],
  ],
  infinity: [
    ['\\infty', '\\infty', true],
    ['\\infty', 'infinity', true],
    ['\\infty', '-\\infty', false],
    ['-\\infty', '-\\infty', true],
    ['\\infty', '\\text{undefined}', false],
    ['(-\\infty, \\infty)', '\\mathbb{R}', true],
    ['\\infty', '10^{100}', false],
    ['(5,\\infty)', '(5, \\text{infinity})', true],
  ],
  bases: [
    ['204_5', '204', true], // the subscript is optional on the prediction
    ['204_5', '204_5', true],
    ['204_5', '54', false], // never compare decimal values
    ['10101_2', '21', false],
    ['52_8', '52', true],
    ['52_8', '52_9', false],
    ['4210_{5}', '4210_5', true],
    ['2516_8', '2516', true],
    ['2516_8', '2561', false],
    ['40_9', '40', true],
    ['4343_6', '4334_6', false],
  ],
  tolerance: [
    ['\\frac{1}{3}', '0.333333', true], // six decimal places with a float literal
    ['\\frac{1}{3}', '0.33', false],
    ['\\frac{2}{3}', '0.666667', true],
    ['\\frac{2}{3}', '0.666', false],
    ['12345', '12346', false], // exact integers are exact
    ['25', '2500', false],
    ['0.0000001', '0.0000002', false], // relative check for tiny values
    ['1/2^{99}', '1/2^{98}', false],
    ['1/2004!', '1/2006!', false],
    ['2^{2^{20}}', '2^{2^{20}}+1', false], // no relative tolerance on huge exact integers
    ['3.14159', '\\pi', true],
    ['\\pi', '3.14', false],
    ['0.5613', '0.56130001', true],
    ['326.5', '326.50', true],
  ],
  'scientific notation': [
    ['1.6e-19', '1.6\\times 10^{-19}', true],
    ['1.6e-19', '1.7\\times10^{-19}', false],
    ['4.5e33', '4.5 \\times 10^{33}', true],
    ['4.5e33', '4.5 \\times 10^{32}', false],
    ['1.325e-27', '1.325e-28', false],
    ['3.83e35', '3.83 \\cdot 10^{35}', true],
    ['2.7778e-6', '2.7778 \\times 10^{-6}', true],
    ['7e37', '70 \\times 10^{36}', true],
    ['1e-5', '0.00001', true],
    ['1e-5', '0.0001', false],
    ['.0000672', '6.72 \\times 10^{-5}', true],
  ],
};

describe('mathEqual (correct mode): the hand-made table', () => {
  const rows = Object.values(TABLE).flat();

  it('has at least 150 pairs, both verdicts in every category', () => {
    expect(rows.length).toBeGreaterThanOrEqual(150);
    for (const [category, list] of Object.entries(TABLE)) {
      expect(list.some((row) => row[2]), `${category} needs an equal pair`).toBe(true);
      expect(list.some((row) => !row[2]), `${category} needs a not-equal pair`).toBe(true);
    }
  });

  for (const [category, list] of Object.entries(TABLE)) {
    it.each(list)(`${category}: %s vs %s → %s`, (gold, pred, equal) => {
      const decision = mathEqual(gold, pred);
      expect(decision.equal, `reason: ${decision.reason}`).toBe(equal);
      expect(decision.reason.length).toBeGreaterThan(0);
    });
  }
});

describe('mathEqual (correct mode): regressions from the prototype', () => {
  it('varies every variable independently at sample points (n=k+4 vs n=k+5)', () => {
    expect(mathEqual('n=k+4', 'n=k+5').equal).toBe(false);
    expect(mathEqual('a+b', 'b+a').equal).toBe(true);
    expect(mathEqual('a+2b', '2a+b').equal).toBe(false);
  });

  it('keeps the underscore of a based number (40_9)', () => {
    expect(mathEqual('40_9', '40').equal).toBe(true);
    expect(mathEqual('40_9', '36').equal).toBe(false);
  });

  it('samples negative points, so |x| differs from x', () => {
    expect(mathEqual('|x|', 'x').equal).toBe(false);
    expect(mathEqual('\\sqrt{x^2}', '|x|').equal).toBe(true);
  });

  it('reads dt^3 in a Leibniz fraction differently from dt^2', () => {
    expect(mathEqual('\\frac{d^{2}v}{dt^{2}}', '\\frac{d^{2}v}{dt^{3}}').equal).toBe(false);
  });

  it('does not accept (t + ½ sin 2t)u(t) for (t + ½ sin 3t)u(t)', () => {
    expect(mathEqual('(t+\\frac12\\sin 2t)u(t)', '(t+\\frac12\\sin 3t)u(t)').equal).toBe(false);
  });

  it('gives a reason for every verdict and never throws on odd input', () => {
    for (const [gold, pred] of [
      ['', ''],
      ['5', ''],
      ['\\frac{', '}'],
      ['\\begin{pmatrix}', '1'],
      ['(((', ')))'],
    ] as const) {
      const decision = mathEqual(gold, pred);
      expect(typeof decision.equal).toBe('boolean');
      expect(decision.reason).not.toBe('');
    }
  });
});
