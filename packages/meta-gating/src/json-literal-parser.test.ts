import { describe, expect, it } from 'vitest';
import { findLastJsonObject, MAX_JSON_DEPTH, parseJsonText } from './json-literal-parser.js';

describe('parseJsonText (python dialect)', () => {
  it('records which top-level values were integer literals or booleans', () => {
    const result = parseJsonText('{"a": 4, "b": 4.0, "c": "4", "d": true, "e": false, "f": 4e0, "g": -0, "h": [1], "i": null}', 'python');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.intKeys).toEqual(['a', 'd', 'e', 'g']);
    expect(result.value).toEqual({ a: 4, b: 4, c: '4', d: true, e: false, f: 4, g: -0, h: [1], i: null });
  });

  it('a later duplicate key decides both the value and its integer flag', () => {
    const result = parseJsonText('{"a": 1, "a": 2.5}', 'python');
    expect(result.ok && result.intKeys).toEqual([]);
    const back = parseJsonText('{"a": 2.5, "a": 2}', 'python');
    expect(back.ok && back.intKeys).toEqual(['a']);
  });

  it('accepts NaN and ±Infinity like Python, and 1e400 overflows to Infinity', () => {
    const result = parseJsonText('{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e400}', 'python');
    expect(result.ok).toBe(true);
    if (!result.ok || typeof result.value !== 'object' || result.value === null || Array.isArray(result.value)) return;
    expect(result.value['a']).toBeNaN();
    expect(result.value['b']).toBe(Number.POSITIVE_INFINITY);
    expect(result.value['c']).toBe(Number.NEGATIVE_INFINITY);
    expect(result.value['d']).toBe(Number.POSITIVE_INFINITY);
    expect(result.intKeys).toEqual([]);
  });

  it("rejects integer literals over Python's 4,300-digit limit but keeps 4,300", () => {
    expect(parseJsonText(`{"a": ${'9'.repeat(4300)}}`, 'python').ok).toBe(true);
    const over = parseJsonText(`{"a": ${'9'.repeat(4301)}}`, 'python');
    expect(over.ok).toBe(false);
    if (!over.ok) expect(over.error).toMatch(/4301 digits/);
    // A 400-digit integer is still an integer (its value overflows to Infinity in JS).
    const big = parseJsonText(`{"a": 1${'0'.repeat(400)}}`, 'python');
    expect(big.ok && big.intKeys).toEqual(['a']);
  });

  it('is strict where Python is strict', () => {
    for (const bad of [
      "{'a': 1}",
      '{a: 1}',
      '{"a": 1,}',
      '[1,]',
      '{"a": "\\x"}',
      '{"a": "\\sqrt"}',
      '{"a": "raw\ttab"}',
      '{"a": 01}',
      '{"a": 1.}',
      '{"a": .5}',
      '{"a": True}',
      '{"a": 1} x',
      '{"a": "\\u12"}',
      '\u00a0{"a": 1}',
    ]) {
      expect(parseJsonText(bad, 'python').ok, bad).toBe(false);
    }
  });

  it('reads the valid escapes, so LaTeX \\frac and \\theta become a form feed and a tab', () => {
    const result = parseJsonText('["\\frac", "\\theta", "\\"\\\\\\/\\b\\n\\r", "\\u00e9\\ud83d\\ude00"]', 'python');
    expect(result.ok && result.value).toEqual(['\frac', '\theta', '"\\/\b\n\r', 'é😀']);
  });

  it('keeps __proto__ as an ordinary key', () => {
    const result = parseJsonText('{"__proto__": 1, "constructor": 2}', 'python');
    expect(result.ok).toBe(true);
    if (!result.ok || typeof result.value !== 'object' || result.value === null) return;
    expect(Object.keys(result.value)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(result.intKeys).toEqual(['__proto__', 'constructor']);
  });

  it(`fails instead of overflowing the stack beyond depth ${MAX_JSON_DEPTH}`, () => {
    expect(parseJsonText(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`, 'python').ok).toBe(true);
    const deep = parseJsonText(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, 'python');
    expect(deep.ok).toBe(false);
    expect(parseJsonText('['.repeat(100_000), 'python').ok).toBe(false);
  });
});

describe('parseJsonText (tolerant dialect)', () => {
  it('accepts single quotes, bare keys, trailing commas, Python literals and any whitespace', () => {
    const result = parseJsonText("{\u00a0'math_notion': ['a', \"b\",], pass_rate: 3, solution_length: True, x: None, }", 'tolerant');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual({ math_notion: ['a', 'b'], pass_rate: 3, solution_length: true, x: null });
    expect(result.intKeys).toEqual(['pass_rate', 'solution_length']);
  });

  it('keeps LaTeX backslashes literally, including \\frac and \\theta', () => {
    const result = parseJsonText('["\\sqrt{2}", "\\frac{1}{2}", "\\theta", "\\pi", "\\\\alpha", "a\\nb", "x\\tab", "\\u00e9", "\\underline"]', 'tolerant');
    expect(result.ok && result.value).toEqual(['\\sqrt{2}', '\\frac{1}{2}', '\\theta', '\\pi', '\\alpha', 'a\\nb', 'x\\tab', 'é', '\\underline']);
    // A valid escape not followed by a letter is still an escape.
    const escapes = parseJsonText('["a\\n", "b\\t1", "c\\"d"]', 'tolerant');
    expect(escapes.ok && escapes.value).toEqual(['a\n', 'b\t1', 'c"d']);
  });

  it('accepts raw control characters inside strings', () => {
    expect(parseJsonText('{"a": "line\nbreak"}', 'tolerant').ok).toBe(true);
  });
});

describe('findLastJsonObject', () => {
  const hasKey = (key: string) => (object: { value: Record<string, unknown> }) => Object.hasOwn(object.value, key);

  it('returns the last object that satisfies the predicate, with its span', () => {
    const text = 'draft {"k": 1} then {"other": 2} and final {"k": 3} trailing {"z": 0}';
    const search = findLastJsonObject(text, hasKey('k'));
    expect(search.found).toBe(true);
    if (!search.found) return;
    expect(search.object.value).toEqual({ k: 3 });
    expect(text.slice(search.object.start, search.object.end)).toBe('{"k": 3}');
  });

  it('returns an enclosing object, skipping nested ones and braces inside strings', () => {
    const text = 'x {"k": {"inner": {"deep": [1, {"a": "}{"}]}}, "s": "{not: an object}"} y';
    const search = findLastJsonObject(text, hasKey('k'));
    expect(search.found && search.object.value).toEqual({ k: { inner: { deep: [1, { a: '}{' }] } }, s: '{not: an object}' });
  });

  it('reports the error of the latest candidate that got past its brace', () => {
    const search = findLastJsonObject('text {"k": [1, 2} more', hasKey('k'));
    expect(search).toEqual({ found: false, lastError: expect.stringMatching(/expected ',' or ']'/) as unknown });
    expect(findLastJsonObject('no braces here', hasKey('k'))).toEqual({ found: false, lastError: null });
  });

  it('handles adversarial megabyte inputs in linear time', () => {
    const inputs = [
      '{'.repeat(1_000_000),
      '{"a":['.repeat(170_000),
      '{"a":"'.repeat(170_000),
      `{'a':"`.repeat(170_000),
      '{"k":{"k":'.repeat(100_000),
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      `${'[{"a":'.repeat(50_000)}1${'}]'.repeat(50_000)}`,
      'x'.repeat(1_000_000),
    ];
    for (const text of inputs) {
      const started = performance.now();
      const search = findLastJsonObject(text, hasKey('k'));
      const elapsedMs = performance.now() - started;
      expect(search.found).toBe(false);
      // Measured ≈ 20–60 ms each; the bound leaves room for a loaded shared CPU.
      expect(elapsedMs).toBeLessThan(1000);
    }
  });

  it('a deeply nested object is accepted up to the depth limit and rejected past it', () => {
    const nested = (depth: number): string => `${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const ok = findLastJsonObject(nested(MAX_JSON_DEPTH), (object) => object.start === 0);
    expect(ok.found).toBe(true);
    const tooDeep = findLastJsonObject(nested(MAX_JSON_DEPTH + 1), (object) => object.start === 0);
    expect(tooDeep.found).toBe(false);
  });
});
