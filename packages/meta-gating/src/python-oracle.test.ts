/**
 * Parity against CPython itself: the fixture was written by
 * scripts/python-oracle.py with Python's own json, re and str (see there).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJsonText, type JsonValue } from './json-literal-parser.js';
import { parseMetaPrediction } from './meta-prediction.js';
import { computeMetaReward } from './meta-reward.js';
import { pythonFloatRepr, pythonRepr, pythonStringRepr } from './python-repr.js';
import { isPythonSpace, pythonStrip, readPythonDigits } from './python-string.js';
import { computeSolutionStats } from './solution-stats.js';

type Encoded = null | boolean | string | { int: string } | { float: string } | { dict: Array<[string, Encoded]> } | Encoded[];

interface Fixture {
  stats: { responses: string[]; scores: number[]; lengths: number[]; prompt: string };
  parse: Array<{ input: string; ok: boolean; value?: Encoded; intKeys?: string[] }>;
  extract: Array<{
    input: string;
    source: 'object' | 'fallback' | 'none';
    fields: Encoded;
    intKeys: string[];
    reward: { score: number; notion: number; passRate: number; length: number };
  }>;
  strip: Array<[string, string]>;
  space: number[];
  reprStrings: Array<[string, string]>;
  reprFloats: Array<[{ float: string }, string]>;
  reprValues: Array<[Encoded, string]>;
  digits: Array<[number, number]>;
}

const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/python-oracle.json', import.meta.url), 'utf8'),
) as Fixture;

function pythonNumber(text: string): number {
  if (text === 'inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  if (text === 'nan') return Number.NaN;
  return Number(text);
}

function decode(value: Encoded): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(decode);
  if ('int' in value) return pythonNumber(value.int);
  if ('float' in value) return pythonNumber(value.float);
  const result: Record<string, JsonValue> = {};
  for (const [key, item] of value.dict) {
    Object.defineProperty(result, key, { value: decode(item), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** Same value; numbers equal (NaN equals NaN, -0 equals 0); keys compared as sets. */
function sameValue(mine: JsonValue | undefined, theirs: JsonValue): boolean {
  if (typeof mine === 'number' && typeof theirs === 'number') {
    return mine === theirs || (Number.isNaN(mine) && Number.isNaN(theirs));
  }
  if (Array.isArray(mine) && Array.isArray(theirs)) {
    return mine.length === theirs.length && mine.every((item, index) => sameValue(item, theirs[index] ?? null));
  }
  if (mine !== null && theirs !== null && typeof mine === 'object' && typeof theirs === 'object' && !Array.isArray(mine) && !Array.isArray(theirs)) {
    const keys = Object.keys(mine).sort();
    const otherKeys = Object.keys(theirs).sort();
    return JSON.stringify(keys) === JSON.stringify(otherKeys) && keys.every((key) => sameValue(mine[key], theirs[key] ?? null));
  }
  return mine === theirs;
}

describe('JSON decoding matches Python json.loads', () => {
  it(`agrees on ${fixture.parse.length} inputs (validity, values, integer keys)`, () => {
    const mismatches: string[] = [];
    for (const testCase of fixture.parse) {
      const result = parseJsonText(testCase.input, 'python');
      if (result.ok !== testCase.ok) {
        mismatches.push(`${JSON.stringify(testCase.input.slice(0, 80))}: ok ${String(result.ok)} vs ${String(testCase.ok)}`);
        continue;
      }
      if (!result.ok || testCase.value === undefined) continue;
      if (!sameValue(result.value, decode(testCase.value))) mismatches.push(`${JSON.stringify(testCase.input.slice(0, 80))}: value`);
      if (testCase.intKeys !== undefined && JSON.stringify([...result.intKeys].sort()) !== JSON.stringify([...testCase.intKeys].sort())) {
        mismatches.push(`${JSON.stringify(testCase.input.slice(0, 80))}: intKeys ${result.intKeys.join()} vs ${testCase.intKeys.join()}`);
      }
    }
    expect(mismatches).toEqual([]);
    // The fixture exercises both outcomes.
    expect(fixture.parse.filter((testCase) => testCase.ok).length).toBeGreaterThan(50);
  });
});

describe('parity extraction and reward match the Python oracle', () => {
  const stats = computeSolutionStats({
    rollouts: fixture.stats.responses.map((text, index) => ({
      text,
      score: fixture.stats.scores[index] ?? 0,
      length: fixture.stats.lengths[index] ?? 0,
    })),
  });

  it(`agrees on ${fixture.extract.length} meta outputs`, () => {
    const mismatches: string[] = [];
    for (const testCase of fixture.extract) {
      const parsed = parseMetaPrediction(testCase.input, { mode: 'parity' });
      const label = JSON.stringify(testCase.input.slice(0, 100));
      if (parsed.source !== testCase.source) mismatches.push(`${label}: source ${parsed.source} vs ${testCase.source}`);
      if (!sameValue(parsed.prediction.fields, decode(testCase.fields))) mismatches.push(`${label}: fields`);
      if (JSON.stringify([...parsed.intKeys].sort()) !== JSON.stringify([...testCase.intKeys].sort())) mismatches.push(`${label}: intKeys`);
      const reward = computeMetaReward({ parsed, stats, notionExcludeText: fixture.stats.prompt, mode: 'parity' });
      const expected = testCase.reward;
      const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;
      if (!close(reward.score, expected.score) || !close(reward.notionScore, expected.notion) || !close(reward.passRateScore, expected.passRate) || !close(reward.lengthScore, expected.length)) {
        mismatches.push(`${label}: reward ${JSON.stringify(reward)} vs ${JSON.stringify(expected)}`);
      }
    }
    expect(mismatches).toEqual([]);
    const sources = new Set(fixture.extract.map((testCase) => testCase.source));
    expect([...sources].sort()).toEqual(['fallback', 'none', 'object']);
    expect(fixture.extract.filter((testCase) => testCase.reward.notion > 0).length).toBeGreaterThan(5);
  });
});

describe('Python str behaviour', () => {
  it('isspace agrees on every code point', () => {
    const pythonSpaces = new Set(fixture.space);
    const disagreements: number[] = [];
    for (let code = 0; code < 0x110000; code++) if (isPythonSpace(code) !== pythonSpaces.has(code)) disagreements.push(code);
    expect(disagreements).toEqual([]);
  });

  it('strip() agrees', () => {
    for (const [input, expected] of fixture.strip) expect(pythonStrip(input)).toBe(expected);
  });

  it('repr() of strings, floats and containers agrees', () => {
    for (const [input, expected] of fixture.reprStrings) {
      // Code points unassigned in one Unicode version but not the other may differ; none are in this list.
      expect(pythonStringRepr(input)).toBe(expected);
    }
    for (const [input, expected] of fixture.reprFloats) expect(pythonFloatRepr(pythonNumber(input.float))).toBe(expected);
    for (const [input, expected] of fixture.reprValues) {
      const value = decode(input);
      // [1.5, 2] and {'x': 0.5}: integral JS numbers print as ints, which matches these inputs.
      expect(pythonRepr(value)).toBe(expected);
    }
  });

  it('int() of every Unicode decimal digit JS also knows agrees', () => {
    let checked = 0;
    for (const [code, value] of fixture.digits) {
      const char = String.fromCodePoint(code);
      if (!/^\p{Nd}$/u.test(char)) continue;
      expect(readPythonDigits(char, 0, 2)).toEqual({ value, end: char.length });
      checked++;
    }
    expect(checked).toBeGreaterThan(600);
  });
});
