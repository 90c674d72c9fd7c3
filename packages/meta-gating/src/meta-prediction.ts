import {
  findLastJsonObject,
  parseJsonText,
  type JsonObject,
  type JsonValue,
  type ParsedJsonObject,
} from './json-literal-parser.js';
import { pythonStrip, pythonStripChars, readPythonDigits, skipPythonSpace } from './python-string.js';

/**
 * How to read a meta prediction:
 * - `robust` (default): the last balanced `{…}` object that has at least one
 *   of the meta keys, in a tolerant JSON dialect (any spacing and key order,
 *   `}` inside strings, LaTeX backslashes, single quotes, bare keys, trailing
 *   commas).
 * - `parity`: exactly the reference extractor (MASA-SPEC §6.2), including its
 *   failures and its broken fallback.
 */
export type MetaParseMode = 'robust' | 'parity';

/** The three keys a meta prediction is asked for (MASA-SPEC §4.2). */
export const META_KEYS = ['math_notion', 'pass_rate', 'solution_length'] as const;

/** One of {@link META_KEYS}. */
export type MetaKey = (typeof META_KEYS)[number];

/** What a meta rollout predicted. */
export interface MetaPrediction {
  /**
   * Every key that was read, with its value as parsed (for the parity
   * fallback: `math_notion`, `problem_difficulty`, `solution_length` as the
   * reference recovers them, `null` where it gives `None`).
   */
  readonly fields: Readonly<JsonObject>;
  /** The raw `math_notion` value (any JSON type; the reward normalises it). Absent when the key is. */
  readonly mathNotion?: JsonValue;
  /** `pass_rate` when it is a number or a boolean (as 1/0); whether it was an integer literal is in `intKeys`. */
  readonly passRate?: number;
  /** `solution_length` when it is a number or a boolean (as 1/0); see `intKeys`. */
  readonly solutionLength?: number;
}

/** Result of {@link parseMetaPrediction}. Never thrown; failures are values. */
export interface MetaParseResult {
  /** True when a JSON object was parsed (the parity fallback does not count). */
  readonly ok: boolean;
  /** Where `prediction` came from: a parsed object, the parity fallback regexes, or nothing. */
  readonly source: 'object' | 'fallback' | 'none';
  readonly prediction: MetaPrediction;
  /**
   * Keys whose value was written as a JSON integer literal, or `true`/`false`
   * (Python's `bool` is an `int`). `4.0` and `"4"` are not integers.
   */
  readonly intKeys: readonly string[];
  /** The object text that was parsed, or `null`. */
  readonly raw: string | null;
  /** The text inside the first `<meta>…</meta>` pair, trimmed; `""` if there is none. */
  readonly metaReasoning: string;
  /** Why no object was parsed (set whenever `ok` is false). */
  readonly failure?: string;
}

export interface ParseMetaPredictionOptions {
  /**
   * `robust` reads what the model meant; `parity` reproduces the reference
   * extractor exactly (see {@link MetaParseMode}).
   * @default 'robust'
   */
  mode?: MetaParseMode;
}

/** Opening of a match of the reference pattern `{["']math_notion["']:[^}]*}`. */
const REFERENCE_PREFIX = /\{["']math_notion["']:/g;

/**
 * Parses the JSON meta prediction out of a meta rollout's text.
 *
 * Never throws and runs in time linear in the text: a megabyte of text, 100k
 * nested braces or a 400-digit number all give a result (usually a failure)
 * in milliseconds.
 *
 * @example
 * const result = parseMetaPrediction('<meta>…</meta> {"math_notion": ["carry"], "pass_rate": 6, "solution_length": 90}');
 * result.prediction.passRate; // 6
 * result.intKeys; // ['pass_rate', 'solution_length']
 */
export function parseMetaPrediction(text: string, options: ParseMetaPredictionOptions = {}): MetaParseResult {
  const { mode = 'robust' } = options;
  if (typeof text !== 'string') {
    return failed('none', {}, [], null, '', 'the meta rollout text is not a string');
  }
  try {
    const metaReasoning = extractMetaReasoning(text);
    return mode === 'parity' ? parseParity(text, metaReasoning) : parseRobust(text, metaReasoning);
  } catch (error: unknown) {
    // Defensive: nothing above is expected to throw, but a reward must not crash a training step.
    const message = error instanceof Error ? error.message : String(error);
    return failed('none', {}, [], null, '', `internal parser error: ${message}`);
  }
}

/**
 * The text inside the first `<meta>…</meta>` pair, trimmed as Python's
 * `str.strip()` does; `""` when there is no such pair (reference regex
 * `<meta>(.*?)</meta>` with DOTALL, first match).
 */
export function extractMetaReasoning(text: string): string {
  const open = text.indexOf('<meta>');
  if (open < 0) return '';
  const close = text.indexOf('</meta>', open + 6);
  if (close < 0) return '';
  return pythonStrip(text.slice(open + 6, close));
}

function parseRobust(text: string, metaReasoning: string): MetaParseResult {
  const search = findLastJsonObject(text, (object: ParsedJsonObject) =>
    META_KEYS.some((key) => Object.hasOwn(object.value, key)),
  );
  if (search.found) {
    const { object } = search;
    return {
      ok: true,
      source: 'object',
      prediction: toPrediction(object.value),
      intKeys: object.intKeys,
      raw: text.slice(object.start, object.end),
      metaReasoning,
    };
  }
  const detail = search.lastError === null ? '' : ` (last attempt: ${search.lastError})`;
  return failed(
    'none',
    {},
    [],
    null,
    metaReasoning,
    `no complete JSON object with math_notion, pass_rate or solution_length found${detail}`,
  );
}

function parseParity(text: string, metaReasoning: string): MetaParseResult {
  const match = lastReferenceMatch(text);
  let reason: string;
  if (match === null) {
    reason = 'no match of the reference pattern {"math_notion":…} (it needs no space after "{", math_notion first, no "}" inside)';
  } else {
    const raw = text.slice(match.start, match.end);
    const parsed = parseJsonText(raw, 'python');
    if (parsed.ok && typeof parsed.value === 'object' && parsed.value !== null && !Array.isArray(parsed.value)) {
      return {
        ok: true,
        source: 'object',
        prediction: toPrediction(parsed.value),
        intKeys: parsed.intKeys,
        raw,
        metaReasoning,
      };
    }
    reason = `the last {"math_notion":…} match is not valid JSON (${parsed.ok ? 'not an object' : parsed.error})`;
  }
  const { fields, intKeys } = referenceFallback(text);
  const recovered = Object.keys(fields);
  const source = recovered.length > 0 ? 'fallback' : 'none';
  const suffix = recovered.length > 0 ? `; the reference fallback recovered ${recovered.join(', ')}` : '';
  return failed(source, fields, intKeys, match === null ? null : text.slice(match.start, match.end), metaReasoning, reason + suffix);
}

function failed(
  source: MetaParseResult['source'],
  fields: JsonObject,
  intKeys: readonly string[],
  raw: string | null,
  metaReasoning: string,
  failure: string,
): MetaParseResult {
  return { ok: false, source, prediction: toPrediction(fields), intKeys, raw, metaReasoning, failure };
}

function numericValue(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

function toPrediction(fields: JsonObject): MetaPrediction {
  const prediction: { -readonly [K in keyof MetaPrediction]: MetaPrediction[K] } = { fields };
  if (Object.hasOwn(fields, 'math_notion')) prediction.mathNotion = fields['math_notion'] ?? null;
  const passRate = Object.hasOwn(fields, 'pass_rate') ? numericValue(fields['pass_rate']) : undefined;
  if (passRate !== undefined) prediction.passRate = passRate;
  const solutionLength = Object.hasOwn(fields, 'solution_length') ? numericValue(fields['solution_length']) : undefined;
  if (solutionLength !== undefined) prediction.solutionLength = solutionLength;
  return prediction;
}

/**
 * The last non-overlapping match of `{["']math_notion["']:[^}]*}`, found in
 * linear time (a backtracking regex would be quadratic on many unclosed
 * openings).
 */
function lastReferenceMatch(text: string): { start: number; end: number } | null {
  const prefix = new RegExp(REFERENCE_PREFIX.source, 'g');
  let last: { start: number; end: number } | null = null;
  let from = 0;
  for (;;) {
    prefix.lastIndex = from;
    const found = prefix.exec(text);
    if (found === null) break;
    const close = text.indexOf('}', found.index + found[0].length);
    if (close < 0) break;
    last = { start: found.index, end: close + 1 };
    from = close + 1;
  }
  return last;
}

/**
 * Where `key\s*:\s*` (Python `\s`) ends for the first occurrence of `key` that
 * is followed by such a colon and for which `accept` finds what it needs;
 * mirrors `re.search` with the reference's fallback patterns.
 */
function searchAfterKey<T>(text: string, key: string, accept: (index: number) => T | null | 'stop'): T | null {
  let from = 0;
  for (;;) {
    const at = text.indexOf(key, from);
    if (at < 0) return null;
    let position = skipPythonSpace(text, at + key.length);
    if (text.charCodeAt(position) === 0x3a) {
      position = skipPythonSpace(text, position + 1);
      const result = accept(position);
      if (result === 'stop') return null;
      if (result !== null) return result;
    }
    from = at + 1;
  }
}

/** The reference's fallback extraction (MASA-SPEC §6.2 step 2), bugs included. */
function referenceFallback(text: string): { fields: JsonObject; intKeys: string[] } {
  const fields: JsonObject = {};
  const intKeys: string[] = [];

  // math_notion\s*:\s*(\[[^\]]*\]) — never matches a quoted key, whose closing quote sits before the colon.
  const list = searchAfterKey<string>(text, 'math_notion', (position) => {
    if (text.charCodeAt(position) !== 0x5b) return null;
    const close = text.indexOf(']', position + 1);
    // No later occurrence can find a ']' either.
    return close < 0 ? 'stop' : text.slice(position, close + 1);
  });
  if (list !== null) {
    const parsed = parseJsonText(list, 'python');
    let notions: JsonValue;
    if (parsed.ok) {
      notions = parsed.value;
    } else {
      notions = pythonStripChars(list, '[]')
        .split(',')
        .filter((piece) => pythonStrip(piece) !== '')
        .map((piece) => pythonStripChars(pythonStripChars(pythonStrip(piece), '"'), "'"));
    }
    const empty = Array.isArray(notions) && notions.length === 0;
    fields['math_notion'] = empty ? null : notions;
  }

  // problem_difficulty\s*:\s*(\d{1,2}) — legacy key; kept only if 0..10.
  const difficulty = searchAfterKey(text, 'problem_difficulty', (position) => readPythonDigits(text, position, 2));
  if (difficulty !== null) {
    const inRange = difficulty.value >= 0 && difficulty.value <= 10;
    fields['problem_difficulty'] = inRange ? difficulty.value : null;
    if (inRange) intKeys.push('problem_difficulty');
  }

  // solution_length\s*:\s*(\d{1,2}) then 1024..16384: one or two digits can never pass, so always None.
  const length = searchAfterKey(text, 'solution_length', (position) => readPythonDigits(text, position, 2));
  if (length !== null) {
    const inRange = length.value >= 1024 && length.value <= 16384;
    fields['solution_length'] = inRange ? length.value : null;
    if (inRange) intKeys.push('solution_length');
  }
  return { fields, intKeys };
}
