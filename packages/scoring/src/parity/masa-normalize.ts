/**
 * MASA parity: the reference's answer normaliser (`strip_string` in
 * `verl/utils/reward_score/utils.py`, MASA-SPEC §6.1 step 5), reproduced rule
 * for rule, side effects included: it deletes every `and`, every `\text`,
 * every `x\in` and every `%`; its two quote-removal lines do nothing.
 */
import { pyIntCanonical, pyLen, pyStrip, pyStripChars } from './python-compat.js';

/** `_fix_fracs`: `\frac12` → `\frac{1}{2}`, `\frac1{7}` → `\frac{1}{7}`; a too-short remainder returns the input unchanged. */
export function masaFixFracs(text: string): string {
  const parts = text.split('\\frac');
  let result = parts[0] as string;
  for (const part of parts.slice(1)) {
    result += '\\frac';
    const points = Array.from(part);
    if (points.length > 0 && points[0] === '{') {
      result += part;
      continue;
    }
    if (points.length < 2) return text;
    const a = points[0] as string;
    const b = points[1] as string;
    const rest = points.slice(2).join('');
    if (b !== '{') result += `{${a}}{${b}}${rest}`;
    else result += `{${a}}${b}${rest}`;
  }
  return result;
}

/** `_fix_a_slash_b`: a whole-string `a/b` of canonical integers (or anything containing `sqrt`) → `\frac{a}{b}`. */
export function masaFixSlash(text: string): string {
  const parts = text.split('/');
  if (parts.length !== 2) return text;
  const [a, b] = parts as [string, string];
  const left = a.includes('sqrt') ? a : pyIntCanonical(a);
  const right = b.includes('sqrt') ? b : pyIntCanonical(b);
  if (left === undefined || right === undefined) return text;
  if (`${left}/${right}` !== text) return text;
  return `\\frac{${left}}{${right}}`;
}

/** `_fix_sqrt`: `\sqrt3` → `\sqrt{3}` (a run of word characters). */
export function masaFixSqrt(text: string): string {
  return text.replace(/\\sqrt([\p{L}\p{N}_]+)/gu, '\\sqrt{$1}');
}

/** Python `str.replace` of every occurrence. */
function replaceAll(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

/**
 * The reference normaliser, `strip_string(string)`. Used on the extracted
 * prediction always and on the gold in evaluation (not in training).
 */
export function masaStripString(input: string): string {
  let s = pyStrip(input);
  s = replaceAll(s, '\n', '');
  s = pyStripChars(s, '.', 'right');
  s = replaceAll(s, '\\!', '');
  s = replaceAll(s, '\\ ', '');
  s = replaceAll(s, '\\\\', '\\');
  s = replaceAll(s, '\\\\', '\\');
  s = replaceAll(s, 'tfrac', 'frac');
  s = replaceAll(s, 'dfrac', 'frac');
  s = replaceAll(s, '\\left', '');
  s = replaceAll(s, '\\right', '');
  // Unit: from the first `\text{` that reaches a final `}`, if that leaves something changed and non-empty.
  const unitless = pyStrip(s.replace(/\\text\{[^\n]*?\}$/u, ''));
  if (unitless !== '' && unitless !== s) s = unitless;
  s = replaceAll(s, '^{\\circ}', '');
  s = replaceAll(s, '^\\circ', '');
  s = replaceAll(s, '\\$', '');
  s = replaceAll(s, '$', '');
  s = replaceAll(s, '\\text', '');
  s = replaceAll(s, 'x\\in', '');
  s = replaceAll(s, '\\%', '');
  s = replaceAll(s, '%', '');
  s = replaceAll(s, ' .', ' 0.');
  s = replaceAll(s, '{.', '{0.');
  s = replaceAll(s, '\\cdot', '');
  s = replaceAll(s, 'infinity', '\\infty');
  if (!s.includes('\\infty')) s = replaceAll(s, 'inf', '\\infty');
  s = replaceAll(s, '+\\inity', '\\infty');
  s = replaceAll(s, 'and', '');
  s = replaceAll(s, '\\mathbf', '');
  s = s.replace(/\\mbox\{[^\n]*?\}/gu, '');
  if (s.includes('j') && !s.includes('i')) s = replaceAll(s, 'j', 'i');
  s = s.replace(/(\p{Nd}+)\.0+([^\p{Nd}])/gu, '$1$2');
  s = s.replace(/(\p{Nd}+)\.0+$/u, '$1');
  if (s.length === 0) return s;
  if (s.startsWith('.')) s = `0${s}`;
  const sides = s.split('=');
  if (sides.length === 2 && pyLen(sides[0] as string) <= 2) s = sides[1] as string;
  s = masaFixSqrt(s);
  s = replaceAll(s, ' ', '');
  s = masaFixFracs(s);
  s = masaFixSlash(s);
  return s;
}
