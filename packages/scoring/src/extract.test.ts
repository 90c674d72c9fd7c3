import { describe, expect, it } from 'vitest';
import { extractBoxed, extractChoice, extractCode, extractLogicChoice, extractMathAnswer } from './extract.js';

describe('extractBoxed', () => {
  it('takes the last box with brace matching', () => {
    expect(extractBoxed('first \\boxed{1} … last \\boxed{\\frac{1}{2}}')).toEqual(['\\frac{1}{2}']);
    expect(extractBoxed('\\boxed{\\{1,2\\}}')).toEqual(['\\{1,2\\}']);
    expect(extractBoxed('\\fbox{7}')).toEqual(['7']);
    expect(extractBoxed('no box')).toBeUndefined();
  });

  it('merges adjacent boxes into a list, in order', () => {
    expect(extractBoxed('so $\\boxed{2}$ and $\\boxed{3}$')).toEqual(['2', '3']);
    expect(extractBoxed('\\boxed{1}, \\boxed{2}, \\boxed{5}')).toEqual(['1', '2', '5']);
    expect(extractBoxed('\\boxed{1}\\boxed{2}')).toEqual(['1', '2']);
  });

  it('does not merge boxes far apart or repeated with a separator', () => {
    const far = `\\boxed{3} ${'then we check this again carefully. '.repeat(3)} \\boxed{5}`;
    expect(extractBoxed(far)).toEqual(['5']);
    // Same content with a separator between them: the second is a restatement.
    expect(extractBoxed('\\boxed{4}, i.e. \\boxed{4}')).toEqual(['4']);
  });

  it('lets an unclosed box take the rest of the text', () => {
    expect(extractBoxed('answer \\boxed{12')).toEqual(['12']);
  });

  it('reads \\boxed 5 (no braces) up to whitespace or $', () => {
    expect(extractBoxed('so $\\boxed 5$.')).toEqual(['5']);
  });
});

describe('extractMathAnswer', () => {
  it.each([
    ['We get \\boxed{\\frac{3}{4}}.', '\\frac{3}{4}', 'boxed'],
    ['\\boxed{2} and \\boxed{3}', '2, 3', 'boxed-list'],
    ['Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.', '\\frac{1}{2}', 'final-answer'],
    ['Thus the answer is 42 because 6 times 7.', '42', 'answer-is'],
    ['The answer is $x = 5$.', 'x = 5', 'answer-is'],
    ['Answer: 3.5', '3.5', 'answer-colon'],
    ['We computed 12 and then 1,234 apples', '1,234', 'last-number'],
    ['so it is 3/4', '3/4', 'last-number'],
    ['nothing numeric here', undefined, 'none'],
  ])('%j → %j (%s)', (text, answer, rule) => {
    expect(extractMathAnswer(text)).toEqual({ answer, rule });
  });

  it('prefers a box over answer phrases', () => {
    expect(extractMathAnswer('The answer is 3. Actually \\boxed{4}').answer).toBe('4');
  });

  it('reads the last answer phrase, not the first', () => {
    expect(extractMathAnswer('The answer is 3.\nWait. The answer is 5.').answer).toBe('5');
  });
});

describe('extractChoice (correct mode)', () => {
  it('does not turn the article "a" into option A', () => {
    expect(extractChoice('This is a hard one; the result is C.').letter).toBeUndefined();
    expect(extractChoice('a cat sat on the mat').letter).toBeUndefined();
    expect(extractChoice('A cat sat on the mat').letter).toBeUndefined();
  });

  it('reads the last box, then the answer phrases, then a bare label', () => {
    expect(extractChoice('I considered \\boxed{A} but final: \\boxed{B}')).toEqual({ letter: 'B', rule: 'boxed' });
    expect(extractChoice('\\boxed{\\text{(C)}}')).toEqual({ letter: 'C', rule: 'boxed' });
    expect(extractChoice('Let f(a) = 3, so the answer is C.')).toEqual({ letter: 'C', rule: 'answer-phrase' });
    expect(extractChoice('The correct answer is (b).')).toEqual({ letter: 'B', rule: 'answer-phrase' });
    expect(extractChoice('Answer: **D**')).toEqual({ letter: 'D', rule: 'answer-phrase' });
    expect(extractChoice('B')).toEqual({ letter: 'B', rule: 'whole-text' });
    expect(extractChoice('(C) because the others fail')).toEqual({ letter: 'C', rule: 'leading-label' });
    expect(extractChoice('Long reasoning.\nSo:\nD')).toEqual({ letter: 'D', rule: 'final-line' });
  });

  it('takes the last answer phrase when there are several', () => {
    expect(extractChoice('The answer is A. Hmm, no. The answer is D.').letter).toBe('D');
  });

  it('only returns valid labels', () => {
    expect(extractChoice('\\boxed{E}', { labels: 'ABCD' }).letter).toBeUndefined();
    expect(extractChoice('\\boxed{2}', { labels: '1234' }).letter).toBe('2');
  });
});

describe('extractLogicChoice', () => {
  it('uses the letter after the last "The correct option is:"', () => {
    expect(extractLogicChoice('Reasoning…\nThe correct option is: A\nwait\nThe correct option is: B')).toEqual({ letter: 'B', rule: 'label-phrase' });
  });

  it('falls back to the general rules', () => {
    expect(extractLogicChoice('so the answer is (C)').letter).toBe('C');
  });
});

describe('extractCode', () => {
  it('takes the first fenced block, with or without a language tag', () => {
    expect(extractCode('Here:\n```python\ndef f():\n    return 1\n```\nand ```python\nx\n```')).toEqual({ code: 'def f():\n    return 1\n', rule: 'fenced' });
    expect(extractCode('```\nprint(1)\n```')).toEqual({ code: 'print(1)\n', rule: 'fenced' });
  });

  it('skips code drafted before </think>', () => {
    const text = '<think>```python\ndraft\n```</think>\n```python\nfinal\n```';
    expect(extractCode(text).code).toBe('final\n');
  });

  it('uses the raw text when there is no fence, and the rest of the text for an unclosed one', () => {
    expect(extractCode('def f(): return 2')).toEqual({ code: 'def f(): return 2', rule: 'raw' });
    expect(extractCode('```python\ndef f(): return 3\n')).toEqual({ code: 'def f(): return 3\n', rule: 'unclosed-fence' });
  });
});
