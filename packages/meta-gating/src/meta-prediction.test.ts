import { describe, expect, it } from 'vitest';
import { extractMetaReasoning, parseMetaPrediction } from './meta-prediction.js';

const GOOD = '<meta>\n  Two carries, so 5 of 8.\n</meta>\n{"math_notion": ["carry", "addition"], "pass_rate": 5, "solution_length": 90}';

describe('parseMetaPrediction', () => {
  it('parses the compact reference format in both modes', () => {
    for (const mode of ['parity', 'robust'] as const) {
      const result = parseMetaPrediction(GOOD, { mode });
      expect(result.ok).toBe(true);
      expect(result.source).toBe('object');
      expect(result.prediction.mathNotion).toEqual(['carry', 'addition']);
      expect(result.prediction.passRate).toBe(5);
      expect(result.prediction.solutionLength).toBe(90);
      expect(result.intKeys).toEqual(['pass_rate', 'solution_length']);
      expect(result.raw).toBe('{"math_notion": ["carry", "addition"], "pass_rate": 5, "solution_length": 90}');
      expect(result.metaReasoning).toBe('Two carries, so 5 of 8.');
      expect(result.failure).toBeUndefined();
    }
  });

  it('defaults to robust mode', () => {
    expect(parseMetaPrediction('{ "pass_rate": 3 }').ok).toBe(true);
  });

  // The reference extractor's documented failures (MASA-SPEC §6.2, §6.4, §14 #5), and robust mode reading the same texts.
  const documentedFailures: Array<[string, string]> = [
    ['space after {', '{ "math_notion": ["carry"], "pass_rate": 4, "solution_length": 90}'],
    ['math_notion not first', '{"pass_rate": 4, "math_notion": ["carry"], "solution_length": 90}'],
    ['a } inside a notion', '{"math_notion": ["the set {1, 2}"], "pass_rate": 4, "solution_length": 90}'],
    ['a LaTeX backslash (invalid JSON escape)', '{"math_notion": ["\\sqrt{2} rationalising"], "pass_rate": 4, "solution_length": 90}'],
    ['single quotes', "{'math_notion': ['carry'], 'pass_rate': 4, 'solution_length': 90}"],
    ['pretty-printed on several lines', '{\n  "math_notion": ["carry"],\n  "pass_rate": 4,\n  "solution_length": 90\n}'],
  ];

  for (const [label, text] of documentedFailures) {
    it(`parity cannot parse: ${label}; robust can`, () => {
      const parity = parseMetaPrediction(text, { mode: 'parity' });
      expect(parity.ok).toBe(false);
      expect(parity.prediction.passRate).toBeUndefined();
      expect(parity.failure).toBeTypeOf('string');
      const robust = parseMetaPrediction(text, { mode: 'robust' });
      expect(robust.ok).toBe(true);
      expect(robust.prediction.passRate).toBe(4);
      expect(robust.prediction.solutionLength).toBe(90);
      expect(robust.intKeys).toEqual(['pass_rate', 'solution_length']);
    });
  }

  it('robust mode keeps the LaTeX of a notion', () => {
    const text = documentedFailures[3]?.[1] ?? '';
    expect(parseMetaPrediction(text).prediction.mathNotion).toEqual(['\\sqrt{2} rationalising']);
  });

  it('parity reads \\theta as a tab, as Python does; robust keeps the LaTeX', () => {
    const text = '{"math_notion": ["\\theta"], "pass_rate": 2}';
    expect(parseMetaPrediction(text, { mode: 'parity' }).prediction.mathNotion).toEqual(['\theta']);
    expect(parseMetaPrediction(text, { mode: 'robust' }).prediction.mathNotion).toEqual(['\\theta']);
  });

  it('records 4.0, "4" and a list as non-integers and true as an integer', () => {
    for (const mode of ['parity', 'robust'] as const) {
      const floats = parseMetaPrediction('{"math_notion": [], "pass_rate": 4.0, "solution_length": "90"}', { mode });
      expect(floats.intKeys).toEqual([]);
      expect(floats.prediction.passRate).toBe(4);
      expect(floats.prediction.solutionLength).toBeUndefined();
      const bools = parseMetaPrediction('{"math_notion": [], "pass_rate": true, "solution_length": [90]}', { mode });
      expect(bools.intKeys).toEqual(['pass_rate']);
      expect(bools.prediction.passRate).toBe(1);
    }
  });

  it('takes the last object: the final answer, not a draft in the reasoning', () => {
    const text = '<meta>maybe {"math_notion": ["x"], "pass_rate": 1}</meta>\n{"math_notion": ["carry"], "pass_rate": 6}';
    for (const mode of ['parity', 'robust'] as const) expect(parseMetaPrediction(text, { mode }).prediction.passRate).toBe(6);
  });

  it('parity: non-overlapping matches, the last one wins even if it is invalid', () => {
    // The second match is invalid JSON; the reference does not go back to the first one.
    const text = '{"math_notion": ["a"], "pass_rate": 3} then {"math_notion": [oops]}';
    const parity = parseMetaPrediction(text, { mode: 'parity' });
    expect(parity.ok).toBe(false);
    expect(parity.raw).toBe('{"math_notion": [oops]}');
    // Robust mode takes the last object that parses.
    expect(parseMetaPrediction(text, { mode: 'robust' }).prediction.passRate).toBe(3);
  });

  describe('parity fallback (the broken reference regexes)', () => {
    it('recovers unquoted notions, never solution_length, never pass_rate', () => {
      const result = parseMetaPrediction("math_notion: [carry, 'borrow', \"sum\"], pass_rate: 4, solution_length: 2048", { mode: 'parity' });
      expect(result.ok).toBe(false);
      expect(result.source).toBe('fallback');
      expect(result.prediction.fields).toEqual({ math_notion: ['carry', 'borrow', 'sum'], solution_length: null });
      expect(result.prediction.passRate).toBeUndefined();
      expect(result.prediction.solutionLength).toBeUndefined();
      expect(result.intKeys).toEqual([]);
      expect(result.failure).toMatch(/fallback recovered math_notion, solution_length/);
    });

    it('does not match a quoted key, because the quote sits before the colon', () => {
      const result = parseMetaPrediction('{ "math_notion": ["carry"], "pass_rate": 4}', { mode: 'parity' });
      expect(result.source).toBe('none');
      expect(result.prediction.fields).toEqual({});
    });

    it('parses the notion list as JSON when it can, and turns an empty list into null', () => {
      expect(parseMetaPrediction('math_notion: ["a", 1]', { mode: 'parity' }).prediction.fields).toEqual({ math_notion: ['a', 1] });
      expect(parseMetaPrediction('math_notion : [ ]', { mode: 'parity' }).prediction.fields).toEqual({ math_notion: null });
      expect(parseMetaPrediction('math_notion: [a,, ]', { mode: 'parity' }).prediction.fields).toEqual({ math_notion: ['a'] });
    });

    it('reads the legacy problem_difficulty (0..10, one or two digits)', () => {
      expect(parseMetaPrediction('problem_difficulty: 7', { mode: 'parity' })).toMatchObject({
        prediction: { fields: { problem_difficulty: 7 } },
        intKeys: ['problem_difficulty'],
      });
      expect(parseMetaPrediction('problem_difficulty:11', { mode: 'parity' }).prediction.fields).toEqual({ problem_difficulty: null });
      // Python's \d and int() accept other scripts' digits: Arabic-Indic three.
      expect(parseMetaPrediction('problem_difficulty: \u0663', { mode: 'parity' }).prediction.fields).toEqual({ problem_difficulty: 3 });
      // The first occurrence followed by digits wins.
      expect(parseMetaPrediction('problem_difficulty: x; problem_difficulty: 4', { mode: 'parity' }).prediction.fields).toEqual({
        problem_difficulty: 4,
      });
    });

    it('robust mode has no fallback', () => {
      const result = parseMetaPrediction('math_notion: [carry]', { mode: 'robust' });
      expect(result).toMatchObject({ ok: false, source: 'none', prediction: { fields: {} } });
    });
  });

  describe('adversarial input never throws and returns quickly', () => {
    const hugeInteger = `{"math_notion": ["a"], "pass_rate": 1${'0'.repeat(400)}, "solution_length": 1e400}`;
    const cases: Array<[string, string]> = [
      ['no JSON', 'I do not know. '.repeat(10)],
      ['1 MB of text', 'lorem ipsum dolor sit amet '.repeat(40_000)],
      ['100k nested braces', '{'.repeat(100_000)],
      ['100k nested brackets in an object', `{"math_notion": ${'['.repeat(100_000)}`],
      ['many unclosed reference openings', '{"math_notion": ['.repeat(60_000)],
      ['a 5,000-digit integer', `{"math_notion": [], "pass_rate": ${'7'.repeat(5000)}}`],
      ['huge numbers', hugeInteger],
      ['lone surrogates', '{"math_notion": ["\ud800"], "pass_rate": 2}'],
    ];
    for (const [label, text] of cases) {
      it(label, () => {
        for (const mode of ['parity', 'robust'] as const) {
          const started = performance.now();
          const result = parseMetaPrediction(text, { mode });
          expect(performance.now() - started).toBeLessThan(1000);
          expect(typeof result.ok).toBe('boolean');
          if (!result.ok) expect(result.failure).toBeTypeOf('string');
        }
      });
    }

    it('a 400-digit pass_rate is an integer whose value overflows; 1e400 is a float', () => {
      for (const mode of ['parity', 'robust'] as const) {
        const result = parseMetaPrediction(hugeInteger, { mode });
        expect(result.intKeys).toEqual(['pass_rate']);
        expect(result.prediction.passRate).toBe(Number.POSITIVE_INFINITY);
        expect(result.prediction.solutionLength).toBe(Number.POSITIVE_INFINITY);
      }
    });

    it('a 5,000-digit integer fails in parity (CPython int limit) but not in robust mode', () => {
      const text = `{"math_notion": [], "pass_rate": ${'7'.repeat(5000)}}`;
      expect(parseMetaPrediction(text, { mode: 'parity' }).ok).toBe(false);
      expect(parseMetaPrediction(text, { mode: 'robust' }).ok).toBe(true);
    });

    it('a non-string input is a failure, not an exception', () => {
      const result = parseMetaPrediction(undefined as unknown as string);
      expect(result).toMatchObject({ ok: false, source: 'none', failure: 'the meta rollout text is not a string' });
    });
  });
});

describe('extractMetaReasoning', () => {
  it('takes the first <meta>…</meta> pair and trims Python whitespace', () => {
    expect(extractMetaReasoning('a <meta>\u00a0 one \n</meta> b <meta>two</meta>')).toBe('one');
    expect(extractMetaReasoning('<meta><meta>x</meta>')).toBe('<meta>x');
    expect(extractMetaReasoning('<meta> unclosed')).toBe('');
    expect(extractMetaReasoning('</meta> <meta>')).toBe('');
  });
});
