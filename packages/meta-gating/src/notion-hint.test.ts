import { createRng, MasaError, type Rng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { parseMetaPrediction } from './meta-prediction.js';
import { appendNotionHint, notionHintText, pickNotionHint } from './notion-hint.js';
import { pythonFloatRepr, pythonRepr, pythonStringRepr } from './python-repr.js';

describe('pythonRepr', () => {
  it('renders lists, dicts and scalars like Python', () => {
    expect(pythonRepr(['a', 'b'])).toBe("['a', 'b']");
    expect(pythonRepr([])).toBe('[]');
    expect(pythonRepr([null, true, false, 3, 0.5, -2])).toBe('[None, True, False, 3, 0.5, -2]');
    expect(pythonRepr({ k: 1, x: 0.5 })).toBe("{'k': 1, 'x': 0.5}");
    expect(pythonRepr([['nested']])).toBe("[['nested']]");
  });

  it('switches to double quotes only for a single quote without a double quote', () => {
    expect(pythonStringRepr("Fermat's little theorem")).toBe('"Fermat\'s little theorem"');
    expect(pythonStringRepr('say "hi"')).toBe('\'say "hi"\'');
    expect(pythonStringRepr('it\'s "x"')).toBe("'it\\'s \"x\"'");
  });

  it('escapes backslashes, control and non-printable characters', () => {
    expect(pythonStringRepr('\\frac')).toBe("'\\\\frac'");
    expect(pythonStringRepr('a\tb\nc\rd')).toBe("'a\\tb\\nc\\rd'");
    expect(pythonStringRepr('\u0000\u001f\u007f')).toBe("'\\x00\\x1f\\x7f'");
    expect(pythonStringRepr('\u00a0\u00e9')).toBe("'\\xa0é'");
    expect(pythonStringRepr('\u200b\u2028')).toBe("'\\u200b\\u2028'");
    expect(pythonStringRepr('😀 中')).toBe("'😀 中'");
    expect(pythonStringRepr('\ud800')).toBe("'\\ud800'");
  });

  it('prints floats with the shortest round-trip digits and Python exponent rules', () => {
    const cases: Array<[number, string]> = [
      [0.1, '0.1'],
      [123, '123.0'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      [1.5e16, '1.5e+16'],
      [0.0001, '0.0001'],
      [0.000015, '1.5e-05'],
      [-2.75, '-2.75'],
      [5e-324, '5e-324'],
      [-0, '-0.0'],
      [Number.NaN, 'nan'],
      [Number.NEGATIVE_INFINITY, '-inf'],
    ];
    for (const [value, expected] of cases) expect(pythonFloatRepr(value)).toBe(expected);
  });
});

describe('notion hint', () => {
  it('is the reference sentence with the repr of the notions', () => {
    expect(notionHintText(['carry', "Fermat's theorem"])).toBe(
      ' The problem could be solved using following math notions: [\'carry\', "Fermat\'s theorem"]. ',
    );
  });

  it('appends after a blank line', () => {
    expect(appendNotionHint({ solutionPrompt: 'Compute 2 + 2.', hint: ' H. ' })).toBe('Compute 2 + 2.\n\n H. ');
    expect(appendNotionHint({ solutionPrompt: 'Compute 2 + 2.', hint: null })).toBe('Compute 2 + 2.');
  });

  const predictions = [
    parseMetaPrediction('garbage'),
    parseMetaPrediction('{"math_notion": ["carry"], "pass_rate": 3}'),
    parseMetaPrediction('{"math_notion": "carry, borrow"}'),
    parseMetaPrediction('{"math_notion": null}'),
    parseMetaPrediction('{"math_notion": ["  "]}'),
    parseMetaPrediction('{"pass_rate": 8}'),
  ];

  it('draws uniformly among predictions with usable notions (default mode)', () => {
    const rng = createRng(7);
    const counts = new Map<number, number>();
    for (let draw = 0; draw < 2000; draw++) {
      const hint = pickNotionHint({ predictions, rng });
      expect(hint).not.toBeNull();
      if (hint === null) continue;
      counts.set(hint.index, (counts.get(hint.index) ?? 0) + 1);
    }
    // Usable: index 1 (list) and 2 (a comma string, normalised); about 1000 draws each.
    expect([...counts.keys()].sort()).toEqual([1, 2]);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(150);
    const fixed: Rng = { ...createRng(1), int: () => 1 };
    expect(pickNotionHint({ predictions, rng: fixed })?.hint).toBe(notionHintText(['carry', 'borrow']));
  });

  it('parity mode renders the raw value and draws among every prediction with the key', () => {
    const fixed = (index: number): Rng => ({ ...createRng(1), int: () => index });
    // Keyed: indices 1, 2, 3, 4 → the second of them is the raw string.
    expect(pickNotionHint({ predictions, rng: fixed(1), mode: 'parity' })).toEqual({
      hint: " The problem could be solved using following math notions: 'carry, borrow'. ",
      index: 2,
    });
    expect(pickNotionHint({ predictions, rng: fixed(2), mode: 'parity' })?.hint).toContain('notions: None. ');
  });

  it('is deterministic for a seed and null without usable notions', () => {
    const first = Array.from({ length: 10 }, ((rng) => () => pickNotionHint({ predictions, rng })?.index)(createRng('seed')));
    const second = Array.from({ length: 10 }, ((rng) => () => pickNotionHint({ predictions, rng })?.index)(createRng('seed')));
    expect(first).toEqual(second);
    expect(pickNotionHint({ predictions: [parseMetaPrediction('x')], rng: createRng(1) })).toBeNull();
  });

  it('requires a seeded rng', () => {
    expect(() => pickNotionHint({ predictions, rng: undefined as unknown as Rng })).toThrow(MasaError);
  });
});
