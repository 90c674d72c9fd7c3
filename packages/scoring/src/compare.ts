/**
 * The comparator of correct mode (SCORING.md §4 step 3 and §5). Every rule
 * that cannot decide says "not equal": undecided is never a pass.
 */
import { createRng, hashString } from '@masa-rl/core';
import {
  evaluateComplex,
  evaluateExact,
  exprKey,
  freeVariables,
  hasFloatLiteral,
  hasInfinity,
  type Complex,
  type Expr,
} from './expression.js';
import { parseScalar } from './latex-parse.js';
import { absRational, compare as compareRational, rational, withinAbsolute, withinRelative, type Rational } from './rational.js';
import { parseStructure, type Answer, type Bound } from './structure.js';

/** The outcome of one comparison and the rule that decided it. */
export interface Decision {
  equal: boolean;
  reason: string;
}

const yes = (reason: string): Decision => ({ equal: true, reason });
const no = (reason: string): Decision => ({ equal: false, reason });

/** Relative tolerance for two exact-but-irrational values evaluated in doubles. */
export const EXACT_RELATIVE_TOLERANCE = 1e-9;
/** Relative tolerance when a decimal literal is involved (six significant digits). */
export const FLOAT_RELATIVE_TOLERANCE = 1e-6;
/** Absolute agreement "to 6 decimal places" when a decimal literal is involved and |gold| ≥ 1e-3. */
export const FLOAT_ABSOLUTE_TOLERANCE = 5e-7;

const SAMPLE_POINTS = 6;
const MAX_SAMPLE_ATTEMPTS = 40;

function squash(text: string): string {
  return text.replace(/\s+/g, '');
}

function magnitude(value: Complex): number {
  return value.im === 0 ? Math.abs(value.re) : Math.hypot(value.re, value.im);
}

function closeComplex(a: Complex, b: Complex, relative: number): boolean {
  const diff = Math.hypot(a.re - b.re, a.im - b.im);
  return diff <= relative * Math.max(magnitude(a), magnitude(b)) + 1e-300;
}

/** Float rule on exact values: relative 1e-6, or 6 decimal places when |gold| ≥ 1e-3. */
function floatRuleExact(gold: Rational, pred: Rational): boolean {
  if (withinRelative(gold, pred, 1n, 1_000_000n)) return true;
  const bigEnough = compareRational(absRational(gold), rational(1n, 1000n)) >= 0;
  return bigEnough && withinAbsolute(gold, pred, 5n, 10_000_000n);
}

function floatRuleDouble(gold: Complex, pred: Complex): boolean {
  if (closeComplex(gold, pred, FLOAT_RELATIVE_TOLERANCE)) return true;
  const diff = Math.hypot(gold.re - pred.re, gold.im - pred.im);
  return magnitude(gold) >= 1e-3 && diff <= FLOAT_ABSOLUTE_TOLERANCE * (1 + 1e-9);
}

/** Compares two constant expressions (no free variables). */
export function compareConstants(gold: Expr, pred: Expr): Decision {
  const float = hasFloatLiteral(gold) || hasFloatLiteral(pred);
  const exactGold = evaluateExact(gold);
  const exactPred = evaluateExact(pred);
  if (exactGold.kind === 'value' && exactPred.kind === 'value') {
    if (compareRational(exactGold.value, exactPred.value) === 0) return yes('number-exact');
    if (float) return floatRuleExact(exactGold.value, exactPred.value) ? yes('number-6dp') : no('number-mismatch');
    return no('number-mismatch');
  }
  if (exactGold.kind === 'too-large' || exactPred.kind === 'too-large') return no('undecided-too-large');
  const a = evaluateComplex(gold, new Map());
  const b = evaluateComplex(pred, new Map());
  const finiteA = Number.isFinite(a.re) && Number.isFinite(a.im);
  const finiteB = Number.isFinite(b.re) && Number.isFinite(b.im);
  if (!finiteA || !finiteB) {
    if (Number.isNaN(a.re) || Number.isNaN(b.re)) return no('undecided-not-a-number');
    if (!finiteA && !finiteB && hasInfinity(gold) && hasInfinity(pred) && a.im === 0 && b.im === 0) {
      return Math.sign(a.re) === Math.sign(b.re) ? yes('infinity') : no('infinity-mismatch');
    }
    return finiteA !== finiteB && (hasInfinity(gold) || hasInfinity(pred)) ? no('infinity-mismatch') : no('undecided-overflow');
  }
  if (float) return floatRuleDouble(a, b) ? yes('number-6dp') : no('number-mismatch');
  return closeComplex(a, b, EXACT_RELATIVE_TOLERANCE) ? yes('number-1e-9') : no('number-mismatch');
}

/** Does the expression contain a step function (floor, ceiling, rounding, sign)? Those need a wider sampling range. */
function hasStepFunction(expr: Expr): boolean {
  switch (expr.k) {
    case 'fn':
      return ['floor', 'ceil', 'round', 'sign'].includes(expr.name) || expr.args.some(hasStepFunction);
    case 'add':
    case 'mul':
      return expr.args.some(hasStepFunction);
    case 'neg':
      return hasStepFunction(expr.arg);
    case 'div':
    case 'pow':
      return hasStepFunction(expr.left) || hasStepFunction(expr.right);
    default:
      return false;
  }
}

function sampleValue(rng: ReturnType<typeof createRng>, positive: boolean, wide = false): number {
  const magnitudeValue = wide ? 0.5 + 60 * rng.next() : 0.35 + 2.6 * rng.next();
  return positive || rng.next() < 0.5 ? magnitudeValue : -magnitudeValue;
}

/**
 * Compares two expressions with free variables at independent random points
 * (each variable drawn separately, negative values included), skipping points
 * where either side is complex or not finite.
 */
export function compareSampled(gold: Expr, pred: Expr, variables: readonly string[], seed: number): Decision {
  const tolerance = hasFloatLiteral(gold) || hasFloatLiteral(pred) ? FLOAT_RELATIVE_TOLERANCE : EXACT_RELATIVE_TOLERANCE;
  const rng = createRng(seed);
  const wide = hasStepFunction(gold) || hasStepFunction(pred);
  const wanted = wide ? 3 * SAMPLE_POINTS : SAMPLE_POINTS;
  let valid = 0;
  for (let attempt = 0; attempt < 3 * MAX_SAMPLE_ATTEMPTS && valid < wanted; attempt++) {
    const env = new Map<string, number>();
    const positive = attempt % 2 === 1;
    for (const name of variables) env.set(name, sampleValue(rng, positive, wide));
    const a = evaluateComplex(gold, env);
    const b = evaluateComplex(pred, env);
    const usable = (v: Complex): boolean =>
      Number.isFinite(v.re) && Number.isFinite(v.im) && Math.abs(v.im) <= 1e-9 * Math.max(1, Math.abs(v.re)) && Math.abs(v.re) < 1e12;
    if (!usable(a) || !usable(b)) continue;
    valid++;
    if (Math.abs(a.re - b.re) > tolerance * Math.max(Math.abs(a.re), Math.abs(b.re)) + 1e-12) return no('sampled-mismatch');
  }
  return valid >= 3 ? yes('sampled') : no('undecided-few-points');
}

/** Compares two scalar expressions: structure, then exact or numeric value, then sampling. */
export function compareExpressions(gold: Expr, pred: Expr): Decision {
  const goldKey = exprKey(gold);
  const predKey = exprKey(pred);
  if (goldKey === predKey) return yes('structural');
  const goldVars = [...freeVariables(gold)].sort();
  const predVars = [...freeVariables(pred)].sort();
  if (goldVars.length === 0 && predVars.length === 0) return compareConstants(gold, pred);
  if (goldVars.join('\u0000') !== predVars.join('\u0000')) return no('different-variables');
  return compareSampled(gold, pred, goldVars, hashString(`${goldKey}\u0000${predKey}`));
}

type Scalar = Extract<Answer, { type: 'scalar' }>;

function hundredth(expr: Expr): Expr {
  return { k: 'div', left: expr, right: { k: 'num', value: rational(100n), float: false } };
}

function compareScalars(gold: Scalar, pred: Scalar): Decision {
  if (squash(gold.text) === squash(pred.text) && gold.percent === pred.percent) return yes('normalized-string');
  if (!gold.expr || !pred.expr) {
    return squash(gold.text) === squash(pred.text) ? yes('normalized-string') : no('unparsed');
  }
  const direct = compareExpressions(gold.expr, pred.expr);
  if (direct.equal) return gold.percent || pred.percent ? yes(`percent-${direct.reason}`) : direct;
  // A gold percentage also accepts the decimal fraction (10\% ↔ 0.1), unless the prediction carries its own % sign.
  if (gold.percent && !pred.percent) {
    const fraction = compareExpressions(hundredth(gold.expr), pred.expr);
    if (fraction.equal) return yes(`percent-fraction-${fraction.reason}`);
  }
  return direct;
}

function isIntervalLike(answer: Answer): answer is Extract<Answer, { type: 'tuple' }> {
  return answer.type === 'tuple' && answer.items.length === 2;
}

function isInfiniteBound(answer: Answer): boolean {
  return answer.type === 'scalar' && answer.expr !== undefined && hasInfinity(answer.expr);
}

/** Two-element tuples are pairs or intervals: positions and bracket kinds both count (brackets at ±∞ do not). */
function compareIntervals(
  gold: { lower: Answer; upper: Answer; lowerClosed: boolean; upperClosed: boolean },
  pred: { lower: Answer; upper: Answer; lowerClosed: boolean; upperClosed: boolean },
  depth: number,
  label = 'interval',
): Decision {
  if (!isInfiniteBound(gold.lower) && gold.lowerClosed !== pred.lowerClosed) return no(`${label}-brackets`);
  if (!isInfiniteBound(gold.upper) && gold.upperClosed !== pred.upperClosed) return no(`${label}-brackets`);
  const lower = compareAnswers(gold.lower, pred.lower, depth + 1);
  if (!lower.equal) return no(`${label}-first:${lower.reason}`);
  const upper = compareAnswers(gold.upper, pred.upper, depth + 1);
  if (!upper.equal) return no(`${label}-second:${upper.reason}`);
  return yes(label);
}

const NEG_INF: Answer = { type: 'scalar', text: '-\\infty', expr: { k: 'neg', arg: { k: 'const', name: 'inf' } }, percent: false };
const POS_INF: Answer = { type: 'scalar', text: '\\infty', expr: { k: 'const', name: 'inf' }, percent: false };

function inequalityAsInterval(answer: Extract<Answer, { type: 'inequality' }>): {
  lower: Answer;
  upper: Answer;
  lowerClosed: boolean;
  upperClosed: boolean;
} {
  const lower: Bound = answer.lower ?? { value: NEG_INF, closed: false };
  const upper: Bound = answer.upper ?? { value: POS_INF, closed: false };
  return { lower: lower.value, upper: upper.value, lowerClosed: lower.closed, upperClosed: upper.closed };
}

function tupleAsInterval(answer: Extract<Answer, { type: 'tuple' }>): {
  lower: Answer;
  upper: Answer;
  lowerClosed: boolean;
  upperClosed: boolean;
} {
  return {
    lower: answer.items[0] as Answer,
    upper: answer.items[1] as Answer,
    lowerClosed: answer.open === '[',
    upperClosed: answer.close === ']',
  };
}

/** Matches gold items to distinct prediction items (augmenting paths), so lists compare as multisets. */
function compareMultisets(gold: readonly Answer[], pred: readonly Answer[], depth: number, label: string): Decision {
  if (gold.length !== pred.length) return no(`${label}-length`);
  if (gold.length > 64) return no(`${label}-too-long`);
  const cache = new Map<number, boolean>();
  const equalAt = (i: number, j: number): boolean => {
    const key = i * 128 + j;
    let value = cache.get(key);
    if (value === undefined) {
      value = compareAnswers(gold[i] as Answer, pred[j] as Answer, depth + 1).equal;
      cache.set(key, value);
    }
    return value;
  };
  const owner = new Array<number>(pred.length).fill(-1);
  const tryAssign = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < pred.length; j++) {
      if (seen[j] || !equalAt(i, j)) continue;
      seen[j] = true;
      if (owner[j] === -1 || tryAssign(owner[j] as number, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < gold.length; i++) {
    if (!tryAssign(i, new Array<boolean>(pred.length).fill(false))) return no(`${label}-item-unmatched`);
  }
  return yes(label);
}

function comparePositional(gold: readonly Answer[], pred: readonly Answer[], depth: number, label: string): Decision {
  if (gold.length !== pred.length) return no(`${label}-length`);
  for (let i = 0; i < gold.length; i++) {
    const decision = compareAnswers(gold[i] as Answer, pred[i] as Answer, depth + 1);
    if (!decision.equal) return no(`${label}-item-${i + 1}:${decision.reason}`);
  }
  return yes(label);
}

/** The entries of a single-row or single-column matrix, else undefined. */
function vectorEntries(answer: Extract<Answer, { type: 'matrix' }>): Answer[] | undefined {
  if (answer.rows.every((row) => row.length === 1)) return answer.rows.map((row) => row[0] as Answer);
  if (answer.rows.length === 1) return answer.rows[0];
  return undefined;
}

function sideExpression(side: string): Expr | undefined {
  return parseScalar(side);
}

/** Two equations are equal when lhs − rhs of one is a constant nonzero multiple of the other's. */
function compareEquations(gold: Extract<Answer, { type: 'equation' }>, pred: Extract<Answer, { type: 'equation' }>, depth: number): Decision {
  if (gold.sides.length === 2 && pred.sides.length === 2 && gold.target && pred.target && squash(gold.sides[0] as string) === squash(pred.sides[0] as string)) {
    const right = compareAnswers(parseStructure(gold.sides[1] as string), parseStructure(pred.sides[1] as string), depth + 1);
    return right.equal ? yes(`same-lhs-${right.reason}`) : no(`same-lhs:${right.reason}`);
  }
  if (gold.sides.length !== 2 || pred.sides.length !== 2) {
    return compareAnswers(parseStructure(gold.sides[gold.sides.length - 1] as string), parseStructure(pred.sides[pred.sides.length - 1] as string), depth + 1);
  }
  const parts = [...gold.sides, ...pred.sides].map(sideExpression);
  if (parts.some((part) => part === undefined)) return no('equation-unparsed');
  const [gl, gr, pl, pr] = parts as [Expr, Expr, Expr, Expr];
  const goldDiff: Expr = { k: 'add', args: [gl, { k: 'neg', arg: gr }] };
  const predDiff: Expr = { k: 'add', args: [pl, { k: 'neg', arg: pr }] };
  const goldVars = [...freeVariables(goldDiff)].sort();
  const predVars = [...freeVariables(predDiff)].sort();
  if (goldVars.join('\u0000') !== predVars.join('\u0000')) return no('equation-different-variables');
  if (goldVars.length === 0) return compareExpressions(gr, pr);
  const rng = createRng(hashString(`${exprKey(goldDiff)}=${exprKey(predDiff)}`));
  let ratio: number | undefined;
  let valid = 0;
  for (let attempt = 0; attempt < MAX_SAMPLE_ATTEMPTS && valid < SAMPLE_POINTS; attempt++) {
    const env = new Map<string, number>();
    for (const name of goldVars) env.set(name, sampleValue(rng, attempt % 2 === 1));
    const a = evaluateComplex(goldDiff, env);
    const b = evaluateComplex(predDiff, env);
    if (![a.re, a.im, b.re, b.im].every(Number.isFinite) || Math.abs(a.im) > 1e-9 || Math.abs(b.im) > 1e-9) continue;
    const scale = 1e-9 * Math.max(1, Math.abs(a.re), Math.abs(b.re));
    if (Math.abs(a.re) <= scale) {
      if (Math.abs(b.re) > 1e-6 * Math.max(1, Math.abs(b.re))) return no('equation-not-proportional');
      continue;
    }
    const r = b.re / a.re;
    if (ratio === undefined) {
      if (Math.abs(r) < 1e-12) return no('equation-not-proportional');
      ratio = r;
    } else if (Math.abs(r - ratio) > 1e-6 * Math.abs(ratio)) {
      return no('equation-not-proportional');
    }
    valid++;
  }
  return valid >= 3 ? yes('equation-proportional') : no('undecided-equation');
}

function lastSide(answer: Extract<Answer, { type: 'equation' }>): Answer {
  return parseStructure(answer.sides[answer.sides.length - 1] as string);
}

function singleLetter(answer: Answer): string | undefined {
  if (answer.type === 'choice') return answer.letter;
  if (answer.type === 'scalar' && /^[A-H]$/.test(answer.text)) return answer.text;
  return undefined;
}

/**
 * Compares a gold answer with a prediction. The gold decides the reading:
 * an inequality gold accepts the equivalent interval but an interval gold
 * rejects an inequality; a bracketed gold is an ordered tuple, a bare list is
 * a multiset; an assignment gold (`x = 5`) accepts its right-hand side.
 */
export function compareAnswers(gold: Answer, pred: Answer, depth = 0): Decision {
  if (depth > 24) return no('undecided-too-deep');
  if (pred.type === 'empty') return gold.type === 'empty' ? yes('both-empty') : no('empty-prediction');
  // Equations first: unwrap an assignment side when the other side is not an equation.
  if (gold.type === 'equation' && pred.type === 'equation') return compareEquations(gold, pred, depth);
  if (gold.type === 'equation') {
    if (gold.target || gold.sides.length > 2) {
      const inner = compareAnswers(lastSide(gold), pred, depth + 1);
      return inner.equal ? yes(`assignment-${inner.reason}`) : no(`assignment:${inner.reason}`);
    }
    return no('equation-vs-value');
  }
  if (pred.type === 'equation') {
    if (pred.target || pred.sides.length > 2) {
      const inner = compareAnswers(gold, lastSide(pred), depth + 1);
      return inner.equal ? yes(`assignment-${inner.reason}`) : no(`assignment:${inner.reason}`);
    }
    return no('value-vs-equation');
  }
  switch (gold.type) {
    case 'empty':
      return no('empty-gold');
    case 'choice': {
      const letter = singleLetter(pred);
      if (letter === undefined) return no('choice-not-a-label');
      return letter === gold.letter ? yes('choice') : no('choice-mismatch');
    }
    case 'word':
      if (pred.type === 'word') return pred.word === gold.word ? yes('word') : no('word-mismatch');
      if (pred.type === 'scalar' || pred.type === 'text') {
        return squash(pred.text).toLowerCase() === squash(gold.word) ? yes('word') : no('word-mismatch');
      }
      return no('word-vs-structure');
    case 'based':
      if (pred.type === 'based') {
        if (pred.base !== gold.base) return no('base-mismatch');
        return pred.digits === gold.digits ? yes('base-digits') : no('base-digits-mismatch');
      }
      if (pred.type === 'scalar' && /^[0-9A-Za-z]+$/.test(pred.text)) {
        return pred.text.toUpperCase().replace(/^0+(?=.)/, '') === gold.digits ? yes('base-digits') : no('base-digits-mismatch');
      }
      return no('base-vs-structure');
    case 'scalar': {
      if (pred.type === 'scalar') return compareScalars(gold, pred);
      if (pred.type === 'list' && pred.items.length === 1) return compareAnswers(gold, pred.items[0] as Answer, depth + 1);
      if (pred.type === 'choice') {
        const letter = singleLetter(gold);
        return letter !== undefined && letter === pred.letter ? yes('choice') : no('scalar-vs-choice');
      }
      if (pred.type === 'word') return squash(gold.text).toLowerCase() === squash(pred.word) ? yes('word') : no('scalar-vs-word');
      if (pred.type === 'text') return squash(gold.text) === squash(pred.text) ? yes('normalized-string') : no('unparsed');
      return no(`scalar-vs-${pred.type}`);
    }
    case 'list':
      if (pred.type === 'list') return compareMultisets(gold.items, pred.items, depth, 'list-multiset');
      if (gold.items.length === 1) return compareAnswers(gold.items[0] as Answer, pred, depth + 1);
      if (pred.type === 'union' && gold.items.every((item) => item.type === 'inequality')) {
        const asIntervals: Answer[] = gold.items.map((item) => {
          const interval = inequalityAsInterval(item as Extract<Answer, { type: 'inequality' }>);
          return { type: 'tuple', items: [interval.lower, interval.upper], open: interval.lowerClosed ? '[' : '(', close: interval.upperClosed ? ']' : ')' };
        });
        return compareMultisets(asIntervals, pred.parts, depth, 'inequalities-as-union');
      }
      return no(`list-vs-${pred.type}`);
    case 'tuple': {
      if (pred.type === 'tuple') {
        if (gold.items.length === 2 && pred.items.length === 2) return compareIntervals(tupleAsInterval(gold), tupleAsInterval(pred), depth, 'pair-or-interval');
        return comparePositional(gold.items, pred.items, depth, 'tuple');
      }
      if (pred.type === 'matrix') {
        const entries = vectorEntries(pred);
        return entries ? comparePositional(gold.items, entries, depth, 'tuple-as-vector') : no('tuple-vs-matrix');
      }
      if (pred.type === 'inequality' && isIntervalLike(gold)) return no('interval-gold-rejects-inequality');
      return no(`tuple-vs-${pred.type}`);
    }
    case 'matrix': {
      if (pred.type === 'matrix') {
        if (gold.rows.length !== pred.rows.length) return no('matrix-shape');
        for (let r = 0; r < gold.rows.length; r++) {
          const row = comparePositional(gold.rows[r] as Answer[], pred.rows[r] as Answer[], depth, 'matrix-row');
          if (!row.equal) return no(`matrix:${row.reason}`);
        }
        return yes('matrix');
      }
      if (pred.type === 'tuple') {
        const entries = vectorEntries(gold);
        return entries ? comparePositional(entries, pred.items, depth, 'vector-as-tuple') : no('matrix-vs-tuple');
      }
      return no(`matrix-vs-${pred.type}`);
    }
    case 'union':
      if (pred.type === 'union') return compareMultisets(gold.parts, pred.parts, depth, 'union');
      return no(`union-vs-${pred.type}`);
    case 'inequality': {
      if (pred.type === 'inequality') {
        if (squash(pred.variable) !== squash(gold.variable)) return no('inequality-variable');
        const decision = compareIntervals(inequalityAsInterval(gold), inequalityAsInterval(pred), depth);
        return decision.equal ? yes('inequality') : decision;
      }
      if (isIntervalLike(pred)) {
        const decision = compareIntervals(inequalityAsInterval(gold), tupleAsInterval(pred), depth);
        return decision.equal ? yes('inequality-as-interval') : decision;
      }
      return no(`inequality-vs-${pred.type}`);
    }
    case 'text':
      if (pred.type === 'text' || pred.type === 'scalar') return squash(gold.text) === squash(pred.text) ? yes('normalized-string') : no('unparsed-gold');
      return no('unparsed-gold');
  }
}
