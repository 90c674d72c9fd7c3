/**
 * MASA parity: the reference `math_equal(prediction, reference)` cascade
 * (MASA-SPEC §6.1 steps 1–9), quirks included: relative tolerance 1e-4
 * against ref, ref/100 and ref×100 (so `25` = `2500` and `12345` = `12346`),
 * commas deleted before reading numbers (so `7,14,18` = `7,14,19`), brackets
 * ignored, Python's `float("204_5") == 2045`. Step 9 (sympy in a subprocess)
 * is replaced by our parser plus exact/numeric evaluation; see the README for
 * the known differences.
 */
import { evaluateComplex, evaluateExact, exprKey, freeVariables, type Complex, type Expr } from '../expression.js';
import { parseScalar } from '../latex-parse.js';
import { compare as compareRational } from '../rational.js';
import { createRng, hashString } from '@masa-rl/core';
import { pyCount, pyFloat, pyIsClose, pyStrip, pyStripChars } from './python-compat.js';

/** The outcome of the parity cascade and the step that decided it. */
export interface ParityDecision {
  equal: boolean;
  reason: string;
}

const yes = (reason: string): ParityDecision => ({ equal: true, reason });
const no = (reason: string): ParityDecision => ({ equal: false, reason });

/** `parse_digits`: commas removed, `float()`, else a trailing `%` (and `\`) means ÷100. */
export function masaParseDigits(text: string): number | undefined {
  const s = text.replace(/,/g, '');
  const value = pyFloat(s);
  if (value !== undefined) return value;
  if (s.endsWith('%')) {
    let t = s.slice(0, -1);
    if (t.endsWith('\\')) t = t.slice(0, -1);
    const percent = pyFloat(t);
    if (percent !== undefined) return percent / 100;
  }
  return undefined;
}

/** `str_to_pmatrix`: `{a,b}` groups (one greedy match) → pmatrix; no match gives the empty string. */
function strToPmatrix(input: string): string {
  const s = pyStrip(input);
  const match = /\{[^\n]*,[^\n]*\}/.exec(s);
  if (!match) return '';
  const m = pyStripChars(match[0], '{}');
  return `\\begin{pmatrix}${m.split(',').join('\\')}\\end{pmatrix}`;
}

const MATRIX_BEGIN = ['\\begin{pmatrix}', '\\begin{bmatrix}'];
const MATRIX_END = ['\\end{pmatrix}', '\\end{bmatrix}'];

function isMatrixText(s: string): boolean {
  return MATRIX_BEGIN.some((b) => s.startsWith(b)) && MATRIX_END.some((e) => s.endsWith(e));
}

function matrixLines(s: string): string[] {
  return s
    .slice('\\begin{pmatrix}'.length, s.length - '\\end{pmatrix}'.length)
    .split('\\\\')
    .map((line) => pyStrip(line))
    .filter((line) => line.length > 0);
}

const BRACKETED = /^[([][^\n]+[)\]]/;

/**
 * The reference cascade. `prediction` and `reference` are the strings after
 * `strip_string` (evaluation normalises both).
 */
export function masaMathEqual(prediction: string, reference: string, depth = 0): ParityDecision {
  if (depth > 20) return no('parity-too-deep');
  // 1. Exact string equality.
  if (prediction === reference) return yes('parity-1-exact-string');
  // 2. Both numbers: relative 1e-4 against ref/100, ref, ref*100; final either way.
  const p = masaParseDigits(prediction);
  const r = masaParseDigits(reference);
  if (p !== undefined && r !== undefined) {
    const candidates: Array<[number, string]> = [
      [r / 100, 'ref/100'],
      [r, 'ref'],
      [r * 100, 'ref*100'],
    ];
    for (const [item, label] of candidates) {
      if (pyIsClose(item, p, 1e-4)) return yes(`parity-2-numeric-${label}`);
    }
    return no('parity-2-numeric-mismatch');
  }
  // 3. Empty prediction.
  if (prediction.length === 0) return no('parity-3-empty');
  let ref = pyStrip(reference);
  const pred = pyStrip(prediction);
  // 4. pmatrix prediction against a brace-list reference.
  if (pred.includes('pmatrix') && !ref.includes('pmatrix')) ref = strToPmatrix(ref);
  // 5. Bracket-insensitive string comparison.
  let predStr = pred;
  let refStr = ref;
  if ((pred.startsWith('[') && pred.endsWith(']') && !ref.startsWith('(')) || (pred.startsWith('(') && pred.endsWith(')') && !ref.startsWith('['))) {
    predStr = pyStripChars(predStr, '[]()');
    refStr = pyStripChars(refStr, '[]()');
  }
  for (const ch of ['{', '}', '(', ')']) {
    refStr = refStr.split(ch).join('');
    predStr = predStr.split(ch).join('');
  }
  if (predStr.toLowerCase() === refStr.toLowerCase()) return yes('parity-5-bracket-insensitive');
  // 6. Tuples / intervals element by element (bracket kinds ignored).
  if (BRACKETED.test(pred) && BRACKETED.test(ref)) {
    const predParts = pred.slice(1, -1).split(',');
    const refParts = ref.slice(1, -1).split(',');
    if (predParts.length === refParts.length && predParts.every((part, i) => masaMathEqual(part, refParts[i] as string, depth + 1).equal)) {
      return yes('parity-6-elementwise');
    }
  }
  // 7. Matrices cell by cell.
  if (isMatrixText(pred) && isMatrixText(ref)) {
    const predLines = matrixLines(pred);
    const refLines = matrixLines(ref);
    let matched = predLines.length === refLines.length;
    for (let i = 0; matched && i < predLines.length; i++) {
      const predCells = (predLines[i] as string).split('&');
      const refCells = (refLines[i] as string).split('&');
      matched = predCells.length === refCells.length && predCells.every((cell, j) => masaMathEqual(cell, refCells[j] as string, depth + 1).equal);
    }
    if (matched) return yes('parity-7-matrix');
  }
  // 8. Equations.
  if (pyCount(pred, '=') === 1 && pyCount(ref, '=') === 1) {
    const [pl, pr] = pred.split('=') as [string, string];
    const [rl, rr] = ref.split('=') as [string, string];
    const predDiff = `${pyStrip(pl)} - (${pyStrip(pr)})`;
    const refDiff = `${pyStrip(rl)} - (${pyStrip(rr)})`;
    if (masaSymbolicEqual(predDiff, refDiff).equal || masaSymbolicEqual(`-(${predDiff})`, refDiff).equal) return yes('parity-8-equation');
  } else if (pyCount(pred, '=') === 1 && pyStrip(pred.split('=')[0] as string).length <= 2 && !ref.includes('=')) {
    if (masaMathEqual(pred.split('=')[1] as string, ref, depth + 1).equal) return yes('parity-8-assignment');
  } else if (pyCount(ref, '=') === 1 && pyStrip(ref.split('=')[0] as string).length <= 2 && !pred.includes('=')) {
    if (masaMathEqual(pred, ref.split('=')[1] as string, depth + 1).equal) return yes('parity-8-assignment');
  }
  // 9. Symbolic equality (sympy in the reference; our parser and evaluator here).
  const symbolic = masaSymbolicEqual(pred, ref);
  return symbolic.equal ? symbolic : no('parity-no-rule-matched');
}

type Parsed =
  | { kind: 'expr'; expr: Expr }
  | { kind: 'equation'; lhs: Expr; rhs: Expr }
  | { kind: 'matrix'; rows: Expr[][] }
  | { kind: 'string'; text: string };

function parseSide(text: string): Expr | undefined {
  return parseScalar(text.split('\\\\').join('\\')) ?? parseScalar(text);
}

function parseForSymbolic(text: string): Parsed {
  if (isMatrixText(text)) {
    const rows = matrixLines(text).map((line) => line.split('&').map((cell) => parseSide(pyStrip(cell))));
    if (rows.length > 0 && rows.every((row) => row.every((cell) => cell !== undefined))) return { kind: 'matrix', rows: rows as Expr[][] };
  }
  if (pyCount(text, '=') === 1) {
    const [l, r] = text.split('=') as [string, string];
    const lhs = parseSide(l);
    const rhs = parseSide(r);
    if (lhs && rhs) return { kind: 'equation', lhs, rhs };
  }
  // sympy relationals (<, <=, >, >=) also have .lhs and .rhs, so the reference's
  // "equation" rule compares |lhs - rhs| for them too: x \le 3 equals x < 3.
  const relation = /^([^<>]+?)(\\leq?|\\geq?|<=?|>=?)([^<>]+)$/.exec(text);
  if (relation) {
    const lhs = parseSide(relation[1] as string);
    const rhs = parseSide(relation[3] as string);
    if (lhs && rhs) return { kind: 'equation', lhs, rhs };
  }
  const expr = parseSide(text);
  return expr ? { kind: 'expr', expr } : { kind: 'string', text };
}

function isZeroConstant(expr: Expr): boolean | undefined {
  const exact = evaluateExact(expr);
  if (exact.kind === 'value') return exact.value.n === 0n;
  const value = evaluateComplex(expr, new Map());
  if (!Number.isFinite(value.re) || !Number.isFinite(value.im)) return undefined;
  return Math.hypot(value.re, value.im) <= 1e-12;
}

/** Sampled identity test, standing in for sympy's `simplify(a - b) == 0`. */
function identicallyEqual(a: Expr, b: Expr, transform: (value: Complex) => Complex = (v) => v): boolean {
  const varsA = [...freeVariables(a)].sort();
  const varsB = [...freeVariables(b)].sort();
  if (varsA.join('\u0000') !== varsB.join('\u0000')) return false;
  const diff: Expr = { k: 'add', args: [a, { k: 'neg', arg: b }] };
  if (varsA.length === 0) {
    const exactA = evaluateExact(a);
    const exactB = evaluateExact(b);
    if (exactA.kind === 'value' && exactB.kind === 'value') return compareRational(exactA.value, exactB.value) === 0;
    const va = transform(evaluateComplex(a, new Map()));
    const vb = transform(evaluateComplex(b, new Map()));
    return Number.isFinite(va.re) && Math.hypot(va.re - vb.re, va.im - vb.im) <= 1e-12 * Math.max(1, Math.hypot(va.re, va.im));
  }
  const rng = createRng(hashString(exprKey(diff)));
  let valid = 0;
  for (let attempt = 0; attempt < 30 && valid < 6; attempt++) {
    const env = new Map<string, number>();
    for (const name of varsA) env.set(name, (rng.next() < 0.5 ? -1 : 1) * (0.35 + 2.6 * rng.next()));
    const va = transform(evaluateComplex(a, env));
    const vb = transform(evaluateComplex(b, env));
    if (![va.re, va.im, vb.re, vb.im].every(Number.isFinite)) continue;
    valid++;
    if (Math.hypot(va.re - vb.re, va.im - vb.im) > 1e-9 * Math.max(1, Math.hypot(va.re, va.im), Math.hypot(vb.re, vb.im))) return false;
  }
  return valid >= 3;
}

/**
 * Step 9, `symbolic_equal(a, b)`: structural equality, then identity
 * (`simplify(a-b) == 0`), then equations by |lhs − rhs|, then numbers within
 * relative 1e-4, then same-shape matrices rounded to 3 decimals.
 */
export function masaSymbolicEqual(a: string, b: string): ParityDecision {
  const left = parseForSymbolic(a);
  const right = parseForSymbolic(b);
  if (left.kind === 'string' || right.kind === 'string') {
    return left.kind === 'string' && right.kind === 'string' && left.text === right.text ? yes('parity-9-string') : no('parity-9-unparsed');
  }
  if (left.kind === 'expr' && right.kind === 'expr') {
    if (exprKey(left.expr) === exprKey(right.expr)) return yes('parity-9-structural');
    const difference: Expr = { k: 'add', args: [left.expr, { k: 'neg', arg: right.expr }] };
    const constant = freeVariables(difference).size === 0;
    if (constant ? isZeroConstant(difference) === true : identicallyEqual(left.expr, right.expr)) return yes('parity-9-simplify');
    if (constant) {
      const va = evaluateComplex(left.expr, new Map());
      const vb = evaluateComplex(right.expr, new Map());
      if (va.im === 0 && vb.im === 0 && Number.isFinite(va.re) && Number.isFinite(vb.re) && pyIsClose(va.re, vb.re, 1e-4)) {
        return yes('parity-9-numeric');
      }
    }
    return no('parity-9-not-equal');
  }
  if (left.kind === 'equation' && right.kind === 'equation') {
    const dl: Expr = { k: 'add', args: [left.lhs, { k: 'neg', arg: left.rhs }] };
    const dr: Expr = { k: 'add', args: [right.lhs, { k: 'neg', arg: right.rhs }] };
    const absolute = (v: Complex): Complex => ({ re: Math.hypot(v.re, v.im), im: 0 });
    return identicallyEqual(dl, dr, absolute) ? yes('parity-9-equation') : no('parity-9-not-equal');
  }
  if (left.kind === 'matrix' && right.kind === 'matrix') {
    if (left.rows.length !== right.rows.length || left.rows.some((row, i) => row.length !== (right.rows[i] as Expr[]).length)) return no('parity-9-not-equal');
    const round3 = (x: number): number => Math.round(x * 1000) / 1000;
    const same = left.rows.every((row, i) =>
      row.every((cell, j) => {
        const va = evaluateComplex(cell, new Map());
        const vb = evaluateComplex((right.rows[i] as Expr[])[j] as Expr, new Map());
        return Number.isFinite(va.re) && round3(va.re) === round3(vb.re) && round3(va.im) === round3(vb.im);
      }),
    );
    return same ? yes('parity-9-matrix') : no('parity-9-not-equal');
  }
  return no('parity-9-not-equal');
}
