/**
 * The structure layer (SCORING.md §4 step 2): reads a normalised answer as a
 * choice label, a word, a based number, a scalar, an unordered list or set, an
 * ordered tuple or interval, a matrix, a union, an inequality or an equation —
 * before any algebra happens.
 */
import type { Expr } from './expression.js';
import { parseScalar } from './latex-parse.js';
import { splitTopLevel, unwrapBrackets } from './latex-scan.js';
import { NUMBER_WORDS, normalizeAnswerText, stripItemDecorations, unwrapTextCommand } from './normalize.js';

/** One bound of an inequality. */
export interface Bound {
  value: Answer;
  closed: boolean;
}

/** A structured answer. */
export type Answer =
  | { type: 'empty' }
  | { type: 'choice'; letter: string }
  | { type: 'word'; word: string }
  | { type: 'based'; digits: string; base: number }
  | { type: 'scalar'; text: string; expr: Expr | undefined; percent: boolean }
  | { type: 'list'; items: Answer[]; braces: boolean }
  | { type: 'tuple'; items: Answer[]; open: string; close: string }
  | { type: 'matrix'; rows: Answer[][] }
  | { type: 'union'; parts: Answer[] }
  | { type: 'inequality'; variable: string; lower: Bound | undefined; upper: Bound | undefined }
  | { type: 'equation'; sides: string[]; target: boolean }
  | { type: 'text'; text: string };

/** Longest answer we analyse structurally; longer ones are compared as normalised strings. */
export const MAX_STRUCTURE_LENGTH = 8000;

const LIST_SEPARATORS = [',', ';', '\\text{ and }', '\\text{and}', '\\text{ or }', '\\text{or}', '\\text{, }', 'and', 'or'];

const ASSIGNMENT_TARGET =
  /^(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{[^{}]*\}|_[A-Za-z0-9])?(?:\s*\((?:[A-Za-z](?:\s*,\s*[A-Za-z])*)\))?$/;

/** Is `text` a name an answer can assign to: `x`, `k`, `a_1`, `m_{\max}`, `f(x)`, `\theta`? */
export function isAssignmentTarget(text: string): boolean {
  const t = text.trim();
  if (/^\\(?:frac|sqrt|pi|infty|sin|cos|tan|log|ln)(?![A-Za-z])/.test(t)) return false;
  return ASSIGNMENT_TARGET.test(t);
}

const RELATION_TOKENS = ['\\le', '\\ge', '<', '>'];

/** Splits at top-level relation tokens, keeping the tokens. */
function splitRelations(text: string): { parts: string[]; ops: string[] } | undefined {
  const parts: string[] = [];
  const ops: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      if (depth === 0) {
        const op = RELATION_TOKENS.find((token) => token.startsWith('\\') && text.startsWith(token, i) && !/[A-Za-z]/.test(text[i + token.length] ?? ''));
        if (op !== undefined) {
          parts.push(text.slice(start, i));
          ops.push(op);
          i += op.length - 1;
          start = i + 1;
          continue;
        }
      }
      const next = text[i + 1];
      if (next === '{') depth++;
      else if (next === '}') depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (ch === '{' || ch === '(' || ch === '[') depth++;
    else if (ch === '}' || ch === ')' || ch === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0 && (ch === '<' || ch === '>')) {
      parts.push(text.slice(start, i));
      ops.push(ch);
      start = i + 1;
    }
  }
  if (ops.length === 0) return undefined;
  parts.push(text.slice(start));
  return { parts: parts.map((part) => part.trim()), ops };
}

function parseInequality(text: string, depth: number): Answer | undefined {
  const split = splitRelations(text);
  if (!split) return undefined;
  const { parts, ops } = split;
  if (parts.some((part) => part.length === 0)) return { type: 'text', text };
  const isLess = (op: string): boolean => op === '<' || op === '\\le';
  const closed = (op: string): boolean => op === '\\le' || op === '\\ge';
  if (parts.length === 2) {
    const [left, right] = parts as [string, string];
    const op = ops[0] as string;
    if (isAssignmentTarget(left)) {
      const bound: Bound = { value: parseStructure(right, depth + 1), closed: closed(op) };
      return isLess(op)
        ? { type: 'inequality', variable: left, lower: undefined, upper: bound }
        : { type: 'inequality', variable: left, lower: bound, upper: undefined };
    }
    if (isAssignmentTarget(right)) {
      const bound: Bound = { value: parseStructure(left, depth + 1), closed: closed(op) };
      return isLess(op)
        ? { type: 'inequality', variable: right, lower: bound, upper: undefined }
        : { type: 'inequality', variable: right, lower: undefined, upper: bound };
    }
    return { type: 'text', text };
  }
  if (parts.length === 3) {
    const [a, x, b] = parts as [string, string, string];
    const [op1, op2] = ops as [string, string];
    if (!isAssignmentTarget(x) || isLess(op1) !== isLess(op2)) return { type: 'text', text };
    const first: Bound = { value: parseStructure(a, depth + 1), closed: closed(op1) };
    const second: Bound = { value: parseStructure(b, depth + 1), closed: closed(op2) };
    return isLess(op1)
      ? { type: 'inequality', variable: x, lower: first, upper: second }
      : { type: 'inequality', variable: x, lower: second, upper: first };
  }
  return { type: 'text', text };
}

/** Expands the first top-level `\pm` / `\mp` into two strings (recursively, at most 8 results). */
export function expandPlusMinus(text: string, budget = 3): string[] {
  if (budget <= 0) return [text];
  for (const token of ['\\pm', '\\mp']) {
    const pieces = splitTopLevel(text, [token]);
    if (pieces.length < 2) continue;
    const left = (pieces[0] as string).trim();
    const right = pieces.slice(1).join(token).trim();
    const [first, second] = token === '\\pm' ? ['+', '-'] : ['-', '+'];
    const combine = (sign: string): string => (left.length === 0 ? `${sign === '+' ? '' : '-'}${right}` : `${left}${sign}${right}`);
    return [...expandPlusMinus(combine(first), budget - 1), ...expandPlusMinus(combine(second), budget - 1)];
  }
  return [text];
}

function parseItems(parts: readonly string[], depth: number): Answer[] {
  const items: Answer[] = [];
  for (const part of parts) {
    const trimmed = part.trim();
    if (trimmed.length === 0) continue;
    for (const expanded of expandPlusMinus(trimmed)) items.push(parseStructure(expanded, depth + 1));
  }
  return items;
}

const MATRIX = /^\\begin\{([pbvBV]?matrix|smallmatrix|array)\}(?:\{[^{}]*\})?([\s\S]*)\\end\{\1\}$/;

function parseMatrix(text: string, depth: number): Answer | undefined {
  const match = MATRIX.exec(text);
  if (!match) return undefined;
  const body = match[2] as string;
  const rows = splitTopLevel(body, ['\\\\'])
    .map((row) => row.trim())
    .filter((row) => row.length > 0)
    .map((row) => splitTopLevel(row, ['&']).map((cell) => parseStructure(cell.trim(), depth + 1)));
  if (rows.length === 0) return undefined;
  return { type: 'matrix', rows };
}

const CHOICE_PREFIX = /^(?:\\(?:text|textbf|mathrm|mathbf)\s*\{\s*)?\(\s*([A-Ha-h])\s*\)\s*\}?(?:\s|$)/;

function parseScalarItem(text: string): Answer {
  const { text: stripped, percent } = stripItemDecorations(text);
  if (stripped.length === 0) return { type: 'text', text };
  const based = /^([0-9][0-9A-Za-z]*)_\{?\s*(\d{1,2})\s*\}?$/.exec(stripped);
  if (based) {
    const digits = (based[1] as string).toUpperCase();
    const base = Number(based[2]);
    const valid = base >= 2 && base <= 36 && Array.from(digits).every((d) => Number.parseInt(d, 36) < base);
    if (valid) return { type: 'based', digits: digits.replace(/^0+(?=.)/, ''), base };
  }
  return { type: 'scalar', text: stripped, expr: parseScalar(stripped), percent };
}

/**
 * Reads a normalised answer string into an {@link Answer}. Lists split at
 * top-level `,` `;` `and` `or`; `\pm` expands into two items; `\{…\}` is a set;
 * `(…)` / `[…]` with commas is a tuple or interval; an unparseable answer
 * becomes `text`.
 */
export function parseStructure(input: string, depth = 0): Answer {
  const text = input.trim();
  if (text.length === 0) return { type: 'empty' };
  if (depth > 12 || text.length > MAX_STRUCTURE_LENGTH) return { type: 'text', text };
  // Choice labels: (B), \text{(B)}, \textbf{(B)}, (B) 12.
  const choice = CHOICE_PREFIX.exec(text);
  if (choice) return { type: 'choice', letter: (choice[1] as string).toUpperCase() };
  if (text === '\\emptyset') return { type: 'list', items: [], braces: true };
  if (text === '\\mathbb{R}') {
    const inf = parseScalarItem('\\infty');
    const negInf = parseScalarItem('-\\infty');
    return { type: 'tuple', items: [negInf, inf], open: '(', close: ')' };
  }
  const listParts = splitTopLevel(text, LIST_SEPARATORS);
  if (listParts.filter((part) => part.trim().length > 0).length > 1) {
    return { type: 'list', items: parseItems(listParts, depth), braces: false };
  }
  const expanded = expandPlusMinus(text);
  if (expanded.length > 1) return { type: 'list', items: expanded.map((item) => parseStructure(item, depth + 1)), braces: false };
  const unionParts = splitTopLevel(text, ['\\cup']);
  if (unionParts.length > 1) return { type: 'union', parts: unionParts.map((part) => parseStructure(part, depth + 1)) };
  const sides = splitTopLevel(text, ['=']);
  if (sides.length > 1) {
    const trimmed = sides.map((side) => side.trim());
    if (trimmed.some((side) => side.length === 0)) return { type: 'text', text };
    return { type: 'equation', sides: trimmed, target: isAssignmentTarget(trimmed[0] as string) };
  }
  const inequality = parseInequality(text, depth);
  if (inequality) return inequality;
  const matrix = parseMatrix(text, depth);
  if (matrix) return matrix;
  const wrapped = unwrapBrackets(text);
  if (wrapped) {
    if (wrapped.open === '\\{') return { type: 'list', items: parseItems(splitTopLevel(wrapped.inner, [',', ';']), depth), braces: true };
    if (wrapped.open === '{') return parseStructure(wrapped.inner, depth + 1);
    const parts = splitTopLevel(wrapped.inner, [',']);
    if (parts.length > 1) {
      const items = parts.map((part) => parseStructure(part.trim(), depth + 1));
      const open = wrapped.open === '\\langle' ? '(' : wrapped.open;
      const close = wrapped.close === '\\rangle' ? ')' : wrapped.close;
      return { type: 'tuple', items, open, close };
    }
    if (wrapped.open === '(' && wrapped.close === ')') return parseStructure(wrapped.inner, depth + 1);
  }
  const textContent = unwrapTextCommand(text);
  if (textContent !== undefined) {
    const content = textContent.trim();
    const label = /^\(?\s*([A-H])\s*\)?$/.exec(content);
    if (label) return { type: 'choice', letter: label[1] as string };
    const word = content.toLowerCase().replace(/\s+/g, ' ');
    const numberWord = NUMBER_WORDS[word];
    if (numberWord !== undefined) return parseScalarItem(String(numberWord));
    if (/[A-Za-z]/.test(content) && !/[\\^_{}]/.test(content)) return { type: 'word', word: word.replace(/[.!]+$/, '') };
    return parseStructure(content, depth + 1);
  }
  // A plain word or phrase (Evelyn, east, no solution): letters and single spaces, one token of 3+ letters.
  if (/^[A-Za-z']+(?: [A-Za-z']+)*$/.test(text) && /[A-Za-z]{3}/.test(text) && !/^(?:sin|cos|tan|log|ln|exp|sqrt|pi)\b/.test(text)) {
    const word = text.toLowerCase().replace(/\s+/g, ' ');
    const numberWord = NUMBER_WORDS[word];
    if (numberWord !== undefined) return parseScalarItem(String(numberWord));
    return { type: 'word', word };
  }
  return parseScalarItem(text);
}

/** Normalises and structures one answer (gold or prediction). */
export function parseAnswer(raw: string): Answer {
  return parseStructure(normalizeAnswerText(raw));
}
