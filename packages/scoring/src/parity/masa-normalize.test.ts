/**
 * strip_string and extract_answer_math, checked against outputs worked out by
 * hand from the reference Python, rule by rule.
 */
import { describe, expect, it } from 'vitest';
import { masaExtractAnswer, masaExtractCode, masaBuildProgram } from './masa-extract.js';
import { masaFixFracs, masaFixSlash, masaStripString } from './masa-normalize.js';
import { pyFloat, pyIsClose, pyStrip, pyTail } from './python-compat.js';

describe('masaStripString (strip_string)', () => {
  it.each([
    // \left/\right removed, spaces removed; \frac{…} untouched.
    ['\\left( 3, \\frac{\\pi}{2} \\right)', '(3,\\frac{\\pi}{2})'],
    // A lone \text{…} is not a unit (removing it would leave nothing), but \text itself is deleted.
    ['\\text{Evelyn}', '{Evelyn}'],
    ['5.4 \\text{ cents}', '5.4'],
    // \textbf is not \text{: only the literal "\text" goes, leaving "bf".
    ['\\textbf{(C)}', 'bf{(C)}'],
    ['10\\%', '10'],
    ['90^\\circ', '90'],
    ['\\$18.90', '18.90'],
    ['12.000', '12'],
    ['12.0x', '12x'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['k = 3', '3'],
    ['\\sqrt3', '\\sqrt{3}'],
    ['\\frac12', '\\frac{1}{2}'],
    ['\\frac1{72}', '\\frac{1}{72}'],
    ['\\dfrac{3}{4}', '\\frac{3}{4}'],
    ['1/2', '\\frac{1}{2}'],
    ['01/2', '01/2'],
    ['\\sqrt{2}/2', '\\frac{\\sqrt{2}}{2}'],
    ['2j', '2i'],
    ['10,\\!080', '10,080'],
    ['1 and 2', '12'],
    ['infinity', '\\infty'],
    // "x\in" only goes when written without a space.
    ['x\\in[-2,7]', '[-2,7]'],
    ['x \\in [-2,7]', 'x\\in[-2,7]'],
    ['', ''],
    ['  7  ', '7'],
  ])('%j → %j', (input, expected) => {
    expect(masaStripString(input)).toBe(expected);
  });

  it('_fix_fracs returns its input unchanged when a \\frac has fewer than two characters after it', () => {
    expect(masaFixFracs('\\frac1')).toBe('\\frac1');
    expect(masaFixFracs('\\fracab')).toBe('\\frac{a}{b}');
  });

  it('_fix_a_slash_b needs canonical integers', () => {
    expect(masaFixSlash('3/4')).toBe('\\frac{3}{4}');
    expect(masaFixSlash('-3/4')).toBe('\\frac{-3}{4}');
    expect(masaFixSlash('3/4/5')).toBe('3/4/5');
    expect(masaFixSlash('3.0/4')).toBe('3.0/4');
  });
});

describe('masaExtractAnswer (extract_answer_math)', () => {
  it.each([
    ['So the answer is \\boxed{\\frac{1}{2}}.', '\\frac{1}{2}'],
    ['first \\boxed{1} then \\boxed{2}', '2'],
    ['\\boxed{\\{1,2\\}}', '\\{1,2\\}'],
    ['\\boxed 5$ and more', '5'],
    ['The answer is 42.', '42'],
    ['I think 3, then 4,000 apples', '4000'],
    ['x = -3.5 is it', '-3.5'],
    ['no numbers here', ''],
    ['unclosed \\boxed{12', '12'],
    ['ends with boxed', ''],
    ['The answer is: 7\nbecause', '7'],
  ])('%j → %j', (response, expected) => {
    expect(masaExtractAnswer(response)).toBe(expected);
  });
});

describe('MBPP parity code rule', () => {
  it('takes the first ``` or ```python block, any case, else the raw text', () => {
    expect(masaExtractCode('text\n```Python\ndef f():\n    return 1\n```\n```python\nother\n```')).toBe('def f():\n    return 1\n');
    expect(masaExtractCode('def f(): return 1')).toBe('def f(): return 1');
    expect(masaBuildProgram('def f(): return 1', ['assert f() == 1', 'assert f() != 2'])).toBe(
      'def f(): return 1\nassert f() == 1\nassert f() != 2',
    );
  });
});

describe('Python compatibility helpers', () => {
  it('float() accepts what Python accepts and rejects the rest', () => {
    expect(pyFloat(' 1_000.5 ')).toBe(1000.5);
    expect(pyFloat('1e3')).toBe(1000);
    expect(pyFloat('.5')).toBe(0.5);
    expect(pyFloat('5.')).toBe(5);
    expect(pyFloat('-inf')).toBe(-Infinity);
    expect(Number.isNaN(pyFloat('NaN'))).toBe(true);
    expect(pyFloat('1__0')).toBeUndefined();
    expect(pyFloat('_1')).toBeUndefined();
    expect(pyFloat('1,0')).toBeUndefined();
    expect(pyFloat('')).toBeUndefined();
    expect(pyFloat('0x10')).toBeUndefined();
  });

  it('isclose uses the larger magnitude', () => {
    expect(pyIsClose(12345, 12346, 1e-4)).toBe(true);
    expect(pyIsClose(0, 1e-300, 1e-4)).toBe(false);
    expect(pyIsClose(Infinity, Infinity, 1e-4)).toBe(true);
    expect(pyIsClose(Number.NaN, Number.NaN, 1e-4)).toBe(false);
  });

  it('strip and tail work on Python whitespace and code points', () => {
    expect(pyStrip('\u001c x \u001f')).toBe('x');
    expect(pyTail('a😀b', 2)).toBe('😀b');
  });
});
