/**
 * The few Python `str` behaviours the reference implementation relies on,
 * reproduced for parity: `str.isspace()` / regex `\s`, `str.strip()`,
 * `str.strip(chars)`, and regex `\d` with `int()` of Unicode decimal digits.
 */

/**
 * True for the characters Python's `str.isspace()` (and so `str.strip()` and
 * the `re` class `\s` on `str` patterns) treats as whitespace. Differs from
 * JavaScript's `\s`: Python includes U+001C–U+001F and U+0085, and excludes
 * U+FEFF.
 */
export function isPythonSpace(code: number): boolean {
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
    code === 0x3000
  );
}

/** Python's `text.strip()` (no argument): trims `str.isspace()` characters from both ends. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Python's `text.strip(chars)`: trims every character that occurs in `chars` from both ends. */
export function pythonStripChars(text: string, chars: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && chars.includes(text.charAt(start))) start++;
  while (end > start && chars.includes(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Skips Python-`\s*` from `index`; returns the first index that is not whitespace. */
export function skipPythonSpace(text: string, index: number): number {
  let position = index;
  while (position < text.length && isPythonSpace(text.charCodeAt(position))) position++;
  return position;
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;

/** The code point at `index` (a whole surrogate pair when there is one). */
function codePointString(text: string, index: number): string {
  const code = text.codePointAt(index);
  return code === undefined ? '' : String.fromCodePoint(code);
}

/**
 * Reads Python regex `\d{1,max}` at `index` (Python's `\d` on `str` is any
 * Unicode decimal digit, category Nd) and returns the digits' value as Python's
 * `int()` would, plus the index after them; `null` when no digit is there.
 */
export function readPythonDigits(text: string, index: number, max: number): { value: number; end: number } | null {
  let position = index;
  let value = 0;
  let count = 0;
  while (count < max && position < text.length) {
    const char = codePointString(text, position);
    if (!DECIMAL_DIGIT.test(char)) break;
    value = value * 10 + decimalDigitValue(char.codePointAt(0) ?? 0);
    position += char.length;
    count++;
  }
  return count === 0 ? null : { value, end: position };
}

/**
 * Value of a Unicode decimal digit. Unicode guarantees Nd characters come in
 * contiguous runs of ten, 0 to 9 (some runs sit back to back, as in the
 * mathematical digits), so the value is the distance from the start of the
 * run, modulo 10.
 */
function decimalDigitValue(codePoint: number): number {
  if (codePoint >= 0x30 && codePoint <= 0x39) return codePoint - 0x30;
  let start = codePoint;
  while (start > 0 && DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (codePoint - start) % 10;
}
