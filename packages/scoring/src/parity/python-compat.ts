/**
 * Small re-implementations of the Python built-ins the MASA reference grader
 * relies on, with Python's semantics where they differ from JavaScript's:
 * `str.strip()` whitespace, `float()` (underscores, `inf`, `nan`),
 * `math.isclose`, code-point indexing.
 */

// Python's str.isspace(): JS whitespace plus the four information separators.
const PY_SPACE = '[\\s\\x1c-\\x1f\\x85]';
const LEADING_SPACE = new RegExp(`^${PY_SPACE}+`, 'u');
const TRAILING_SPACE = new RegExp(`${PY_SPACE}+$`, 'u');

/** Python `s.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/** Python `s.strip(chars)` / `lstrip` / `rstrip` with an explicit character set. */
export function pyStripChars(text: string, chars: string, side: 'both' | 'left' | 'right' = 'both'): string {
  const set = new Set(Array.from(chars));
  const points = Array.from(text);
  let start = 0;
  let end = points.length;
  if (side !== 'right') while (start < end && set.has(points[start] as string)) start++;
  if (side !== 'left') while (end > start && set.has(points[end - 1] as string)) end--;
  return points.slice(start, end).join('');
}

/** Python `len(s)`: code points, not UTF-16 units. */
export function pyLen(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Python `s[-n:]` (code points). */
export function pyTail(text: string, n: number): string {
  if (text.length <= n) return text;
  const points = Array.from(text);
  return points.length <= n ? text : points.slice(points.length - n).join('');
}

/** Python `s.split(sep)` (JS `split` already matches for a non-empty separator). */
export function pySplit(text: string, separator: string): string[] {
  return text.split(separator);
}

/** Python `s.count(sub)` for a non-empty `sub` (non-overlapping). */
export function pyCount(text: string, sub: string): number {
  let count = 0;
  let at = text.indexOf(sub);
  while (at >= 0) {
    count++;
    at = text.indexOf(sub, at + sub.length);
  }
  return count;
}

const DIGITS = '[0-9](?:_?[0-9])*';
const PY_FLOAT = new RegExp(
  `^[+-]?(?:(?:${DIGITS})?\\.${DIGITS}(?:[eE][+-]?${DIGITS})?|${DIGITS}\\.?(?:[eE][+-]?${DIGITS})?|inf(?:inity)?|nan)$`,
  'i',
);

/**
 * Python `float(text)`: accepts surrounding whitespace, a sign, underscores
 * between digits (`float("204_5") == 2045.0`), `inf`/`infinity`/`nan` in any
 * case, a leading or trailing dot. Returns undefined where Python raises.
 * (Non-ASCII digits, which Python also accepts, are not supported.)
 */
export function pyFloat(text: string): number | undefined {
  const trimmed = pyStrip(text);
  if (!PY_FLOAT.test(trimmed)) return undefined;
  const lower = trimmed.toLowerCase().replace(/_/g, '');
  const unsigned = lower.replace(/^[+-]/, '');
  const negative = lower.startsWith('-');
  if (unsigned.startsWith('inf')) return negative ? -Infinity : Infinity;
  if (unsigned === 'nan') return Number.NaN;
  return Number(lower);
}

/** Python `int(text)` for the canonical decimal form only; undefined otherwise. */
export function pyIntCanonical(text: string): string | undefined {
  return /^-?(?:0|[1-9][0-9]*)$/.test(text) && text !== '-0' ? text : undefined;
}

/** Python `math.isclose(a, b, rel_tol=relTol)` (abs_tol 0). */
export function pyIsClose(a: number, b: number, relTol: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(a - b);
  return diff <= Math.abs(relTol * b) || diff <= Math.abs(relTol * a);
}
