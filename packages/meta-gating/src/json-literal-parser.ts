/**
 * A small hand-written JSON parser that remembers how each top-level value
 * was written, which `JSON.parse` cannot: the reference implementation asks
 * Python's `isinstance(x, int)`, so `4` counts as an integer while `4.0` and
 * `"4"` do not (and `true`/`false` do, as Python's `bool` is an `int`).
 *
 * Two dialects:
 * - `python`: exactly what Python's `json.loads` accepts (strict mode):
 *   whitespace ` \t\n\r` only, double-quoted strings with no raw control
 *   characters and only the standard escapes, `NaN`/`Infinity`/`-Infinity`
 *   accepted, integer literals over 4,300 digits rejected (CPython's
 *   `int_max_str_digits`), no trailing commas.
 * - `tolerant`: what a model writes when it almost writes JSON: any
 *   whitespace, single-quoted strings, bare identifier keys, trailing commas,
 *   raw control characters in strings, `True`/`False`/`None`, and LaTeX
 *   backslashes kept literally (`"\sqrt{x}"` is the text `\sqrt{x}`; a valid
 *   escape letter directly followed by a letter, as in `\frac` or `\theta`, is
 *   also read as LaTeX rather than as a form feed or tab).
 *
 * The parser never throws and never recurses deeper than {@link MAX_JSON_DEPTH}
 * levels; failures come back as values, which keeps scanning a megabyte of
 * adversarial text cheap (no exception per candidate).
 */

/** A parsed JSON value. `NaN` and `±Infinity` appear as JS numbers. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A parsed JSON object (a plain object; read keys with `Object.hasOwn`). */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Which grammar to accept; see the module comment. */
export type JsonDialect = 'python' | 'tolerant';

/** A successfully parsed object and where it sat in the text. */
export interface ParsedJsonObject {
  value: JsonObject;
  /** Top-level keys whose value was written as an integer literal or a boolean. */
  intKeys: string[];
  /** Index of the opening `{`. */
  start: number;
  /** Index just after the closing `}`. */
  end: number;
}

/** Result of {@link parseJsonText}. */
export type JsonTextParse =
  | { ok: true; value: JsonValue; intKeys: string[] }
  | { ok: false; error: string };

/**
 * Deepest nesting accepted. CPython's decoder raises `RecursionError` at a
 * depth that depends on the interpreter build (about 1,000 or more); real meta
 * predictions nest two levels.
 */
export const MAX_JSON_DEPTH = 1000;

/** CPython (3.11+) refuses to convert integer literals with more digits than this. */
export const PYTHON_INT_MAX_DIGITS = 4300;

const FAIL: unique symbol = Symbol('json-fail');
type Parsed = JsonValue | typeof FAIL;

const MEMO_UNKNOWN = 0;
const MEMO_FAILED = -1;

interface ObjectMemo {
  /** Per text index of a `{`: 0 unknown, -1 failed, else the index after its `}`. */
  end: Int32Array;
  /** Nesting height of the object that starts there (1 for a flat object). */
  height: Uint16Array;
  values: Map<number, JsonObject>;
}

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isIdentifierStart(code: number): boolean {
  return isAsciiLetter(code) || code === 0x5f || code === 0x24;
}

/** JavaScript `\s` plus Python's extra whitespace (U+001C–U+001F, U+0085). */
function isTolerantSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Literal words of each dialect: text, value, and whether Python counts it as an `int`. */
const PYTHON_WORDS: ReadonlyArray<readonly [string, JsonValue, boolean]> = [
  ['null', null, false],
  ['true', true, true],
  ['false', false, true],
  ['NaN', Number.NaN, false],
  ['Infinity', Number.POSITIVE_INFINITY, false],
];
const TOLERANT_WORDS: ReadonlyArray<readonly [string, JsonValue, boolean]> = [
  ...PYTHON_WORDS,
  ['None', null, false],
  ['True', true, true],
  ['False', false, true],
];

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function setKey(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

class Scanner {
  position = 0;
  /** Whether the value just parsed was an integer literal or a boolean. */
  lastWasInteger = false;
  /** Nesting height of the value just parsed (0 for scalars). */
  lastHeight = 0;
  /** Index of the object being parsed as the root of a tolerant candidate (memo lookups skip it). */
  root = -1;
  /** Top-level keys of the last object parsed at depth 1, with their integer flag. */
  rootIntKeys: string[] = [];

  private readonly python: boolean;

  constructor(
    private readonly text: string,
    dialect: JsonDialect,
    private readonly memo: ObjectMemo | null,
  ) {
    this.python = dialect === 'python';
  }

  reset(position: number): void {
    this.position = position;
    this.errorMessage = '';
  }

  private errorMessage = '';
  private errorAt = 0;

  /** The first failure since the last reset, formatted lazily (failing must stay cheap). */
  get error(): string {
    return this.errorMessage === '' ? '' : `${this.errorMessage} at char ${this.errorAt}`;
  }

  private fail(message: string): typeof FAIL {
    if (this.errorMessage === '') {
      this.errorMessage = message;
      this.errorAt = this.position;
    }
    return FAIL;
  }

  skipSpace(): void {
    const text = this.text;
    let position = this.position;
    if (this.python) {
      while (position < text.length) {
        const code = text.charCodeAt(position);
        if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) break;
        position++;
      }
    } else {
      while (position < text.length && isTolerantSpace(text.charCodeAt(position))) position++;
    }
    this.position = position;
  }

  parseValue(depth: number): Parsed {
    const text = this.text;
    const code = text.charCodeAt(this.position);
    this.lastWasInteger = false;
    this.lastHeight = 0;
    if (code === 0x7b) return this.parseObject(depth + 1);
    if (code === 0x5b) return this.parseArray(depth + 1);
    if (code === 0x22 || (code === 0x27 && !this.python)) return this.parseString(code);
    if (code === 0x2d || isDigit(code)) return this.parseNumber();
    return this.parseWord();
  }

  private parseWord(): Parsed {
    const text = this.text;
    const at = this.position;
    const words = this.python ? PYTHON_WORDS : TOLERANT_WORDS;
    for (const [word, value, isInteger] of words) {
      if (text.startsWith(word, at)) {
        this.position = at + word.length;
        this.lastWasInteger = isInteger;
        return value;
      }
    }
    return this.fail(at >= text.length ? 'unexpected end of text, expected a value' : 'expected a value');
  }

  private parseNumber(): Parsed {
    const text = this.text;
    const start = this.position;
    let position = start;
    if (text.charCodeAt(position) === 0x2d) {
      position++;
      if (text.startsWith('Infinity', position)) {
        this.position = position + 8;
        return Number.NEGATIVE_INFINITY;
      }
    }
    const digitsStart = position;
    const first = text.charCodeAt(position);
    if (first === 0x30) {
      position++;
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(text.charCodeAt(position))) position++;
    } else {
      this.position = position;
      return this.fail('expected a digit');
    }
    const integerDigits = position - digitsStart;
    let isInteger = true;
    if (text.charCodeAt(position) === 0x2e && isDigit(text.charCodeAt(position + 1))) {
      position += 2;
      while (isDigit(text.charCodeAt(position))) position++;
      isInteger = false;
    }
    const marker = text.charCodeAt(position);
    if (marker === 0x65 || marker === 0x45) {
      let exponent = position + 1;
      const sign = text.charCodeAt(exponent);
      if (sign === 0x2b || sign === 0x2d) exponent++;
      if (isDigit(text.charCodeAt(exponent))) {
        while (isDigit(text.charCodeAt(exponent))) exponent++;
        position = exponent;
        isInteger = false;
      }
    }
    if (this.python && isInteger && integerDigits > PYTHON_INT_MAX_DIGITS) {
      return this.fail(`integer literal with ${integerDigits} digits exceeds Python's ${PYTHON_INT_MAX_DIGITS}-digit limit`);
    }
    this.position = position;
    this.lastWasInteger = isInteger;
    return Number(text.slice(start, position));
  }

  private parseString(quote: number): Parsed {
    const text = this.text;
    let position = this.position + 1;
    let runStart = position;
    let out = '';
    for (;;) {
      if (position >= text.length) {
        this.position = position;
        return this.fail('unterminated string');
      }
      const code = text.charCodeAt(position);
      if (code === quote) {
        out += text.slice(runStart, position);
        this.position = position + 1;
        return out;
      }
      if (code === 0x5c) {
        out += text.slice(runStart, position);
        if (position + 1 >= text.length) {
          this.position = position;
          return this.fail('unterminated string');
        }
        const next = text.charAt(position + 1);
        const simple = SIMPLE_ESCAPES[next];
        if (next === '"' || next === '\\' || next === '/' || (next === "'" && !this.python)) {
          out += next;
          position += 2;
        } else if (simple !== undefined) {
          // Tolerant: `\frac`, `\theta`, `\nabla` … are LaTeX, not escapes.
          out += !this.python && isAsciiLetter(text.charCodeAt(position + 2)) ? `\\${next}` : simple;
          position += 2;
        } else if (next === 'u') {
          const hex = text.slice(position + 2, position + 6);
          if (hex.length === 4 && [0, 1, 2, 3].every((index) => isHexDigit(hex.charCodeAt(index)))) {
            out += String.fromCharCode(Number.parseInt(hex, 16));
            position += 6;
          } else if (this.python) {
            this.position = position;
            return this.fail('invalid \\uXXXX escape');
          } else {
            out += '\\u';
            position += 2;
          }
        } else if (this.python) {
          this.position = position;
          return this.fail(`invalid escape \\${next}`);
        } else {
          out += `\\${next}`;
          position += 2;
        }
        runStart = position;
        continue;
      }
      if (this.python && code < 0x20) {
        this.position = position;
        return this.fail('invalid control character in string');
      }
      position++;
    }
  }

  private parseKey(): string | typeof FAIL {
    const text = this.text;
    const code = text.charCodeAt(this.position);
    if (code === 0x22 || (code === 0x27 && !this.python)) {
      const key = this.parseString(code);
      return typeof key === 'string' ? key : FAIL;
    }
    if (!this.python && isIdentifierStart(code)) {
      const start = this.position;
      let position = start + 1;
      while (position < text.length) {
        const next = text.charCodeAt(position);
        if (!(isIdentifierStart(next) || isDigit(next))) break;
        position++;
      }
      this.position = position;
      return text.slice(start, position);
    }
    return this.fail(this.python ? 'expected a property name in double quotes' : 'expected a property name');
  }

  private parseObject(depth: number): Parsed {
    const start = this.position;
    const memo = this.memo;
    if (memo !== null && start !== this.root) {
      const end = memo.end[start] ?? MEMO_UNKNOWN;
      if (end === MEMO_FAILED) return this.fail('invalid nested object');
      if (end !== MEMO_UNKNOWN) {
        const height = memo.height[start] ?? 1;
        if (depth - 1 + height > MAX_JSON_DEPTH) return this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
        const value = memo.values.get(start);
        if (value !== undefined) {
          this.position = end;
          this.lastHeight = height;
          return value;
        }
      }
    }
    if (depth > MAX_JSON_DEPTH) return this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    const text = this.text;
    this.position++;
    this.skipSpace();
    const first = text.charCodeAt(this.position);
    // Cheap rejection before allocating: most `{` in prose do not open an object.
    if (first !== 0x7d && first !== 0x22 && (this.python || (first !== 0x27 && !isIdentifierStart(first)))) {
      return this.fail(this.python ? 'expected a property name in double quotes' : 'expected a property name');
    }
    const result: JsonObject = {};
    const integerFlags = new Map<string, boolean>();
    let height = 1;
    if (first === 0x7d) {
      this.position++;
      this.finishObject(depth, integerFlags);
      this.lastHeight = 1;
      this.lastWasInteger = false;
      return result;
    }
    for (;;) {
      const key = this.parseKey();
      if (key === FAIL) return FAIL;
      this.skipSpace();
      if (text.charCodeAt(this.position) !== 0x3a) return this.fail("expected ':' after a property name");
      this.position++;
      this.skipSpace();
      const value = this.parseValue(depth);
      if (value === FAIL) return FAIL;
      setKey(result, key, value);
      integerFlags.set(key, this.lastWasInteger);
      height = Math.max(height, this.lastHeight + 1);
      this.skipSpace();
      const next = text.charCodeAt(this.position);
      if (next === 0x7d) {
        this.position++;
        break;
      }
      if (next !== 0x2c) return this.fail("expected ',' or '}' in an object");
      this.position++;
      this.skipSpace();
      if (!this.python && text.charCodeAt(this.position) === 0x7d) {
        this.position++;
        break;
      }
    }
    this.finishObject(depth, integerFlags);
    this.lastHeight = height;
    this.lastWasInteger = false;
    return result;
  }

  private finishObject(depth: number, integerFlags: Map<string, boolean>): void {
    if (depth !== 1) return;
    const keys: string[] = [];
    for (const [key, isInteger] of integerFlags) if (isInteger) keys.push(key);
    this.rootIntKeys = keys;
  }

  private parseArray(depth: number): Parsed {
    if (depth > MAX_JSON_DEPTH) return this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    const text = this.text;
    const result: JsonValue[] = [];
    let height = 1;
    this.position++;
    this.skipSpace();
    if (text.charCodeAt(this.position) === 0x5d) {
      this.position++;
      this.lastHeight = 1;
      this.lastWasInteger = false;
      return result;
    }
    for (;;) {
      const value = this.parseValue(depth);
      if (value === FAIL) return FAIL;
      result.push(value);
      height = Math.max(height, this.lastHeight + 1);
      this.skipSpace();
      const next = text.charCodeAt(this.position);
      if (next === 0x5d) {
        this.position++;
        break;
      }
      if (next !== 0x2c) return this.fail("expected ',' or ']' in an array");
      this.position++;
      this.skipSpace();
      if (!this.python && text.charCodeAt(this.position) === 0x5d) {
        this.position++;
        break;
      }
    }
    this.lastHeight = height;
    this.lastWasInteger = false;
    return result;
  }
}

/**
 * Parses a whole text as one JSON value, like Python's `json.loads(text)`
 * (`python` dialect) or leniently (`tolerant`): surrounding whitespace is
 * allowed, anything else after the value is an error. `intKeys` lists the
 * top-level keys written as integers when the value is an object.
 */
export function parseJsonText(text: string, dialect: JsonDialect): JsonTextParse {
  const scanner = new Scanner(text, dialect, null);
  scanner.skipSpace();
  scanner.rootIntKeys = [];
  const value = scanner.parseValue(0);
  if (value === FAIL) return { ok: false, error: scanner.error };
  scanner.skipSpace();
  if (scanner.position !== text.length) return { ok: false, error: `extra data at char ${scanner.position}` };
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  return { ok: true, value, intKeys: isObject ? scanner.rootIntKeys : [] };
}

/** Result of {@link findLastJsonObject}. */
export type LastObjectSearch =
  | { found: true; object: ParsedJsonObject }
  | {
      found: false;
      /** The error of the latest candidate that got past its opening brace, if any. */
      lastError: string | null;
    };

/**
 * Finds the last balanced `{…}` object in `text` (in the `tolerant` dialect)
 * for which `accept` returns true; candidates are tried from the last `{`
 * backwards. Runs in time linear in the text: every candidate's outcome is
 * remembered, so an enclosing candidate skips a nested object in one step
 * instead of parsing it again.
 */
export function findLastJsonObject(text: string, accept: (object: ParsedJsonObject) => boolean): LastObjectSearch {
  let lastError: string | null = null;
  let memo: ObjectMemo | null = null;
  let scanner: Scanner | null = null;
  for (let start = text.lastIndexOf('{'); start >= 0; start = start === 0 ? -1 : text.lastIndexOf('{', start - 1)) {
    if (memo === null) {
      memo = { end: new Int32Array(start + 1), height: new Uint16Array(start + 1), values: new Map() };
      scanner = new Scanner(text, 'tolerant', memo);
    }
    if (scanner === null) break;
    scanner.reset(start);
    scanner.root = start;
    scanner.rootIntKeys = [];
    const value = scanner.parseValue(0);
    if (value === FAIL || typeof value !== 'object' || value === null || Array.isArray(value)) {
      memo.end[start] = MEMO_FAILED;
      if (lastError === null && scanner.position > start + 1) lastError = scanner.error;
      continue;
    }
    memo.end[start] = scanner.position;
    memo.height[start] = scanner.lastHeight;
    memo.values.set(start, value);
    const object: ParsedJsonObject = { value, intKeys: scanner.rootIntKeys, start, end: scanner.position };
    if (accept(object)) return { found: true, object };
  }
  return { found: false, lastError };
}
