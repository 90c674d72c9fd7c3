import { MasaError, type Rng } from '@masa-rl/core';

/** The three operations of the arithmetic chain task. */
export type ArithOp = '+' | '-' | '*';

/** One operation of a chain: `a op b = result`, evaluated left to right. */
export interface ArithStep {
  op: ArithOp;
  a: number;
  b: number;
  result: number;
}

/** A generated problem (TINY-TASK §1). */
export interface ArithProblem {
  /** The statement, e.g. `Compute (47 + 38) * 3 - 19.` — never contains a notion word. */
  text: string;
  start: number;
  steps: ArithStep[];
  /** The final value (every intermediate value stays in 0..999). */
  answer: number;
  /** Number of operations (1–4). */
  k: number;
  /** Digit budget (1–3): the start has exactly `dmax` digits, later operands 1..dmax. */
  dmax: number;
}

/** Weights of the problem mix. */
export interface ArithMix {
  /** Weights of k = 1, 2, 3, 4 operations. */
  kWeights: readonly [number, number, number, number];
  /** Weights of the digit budget dmax = 1, 2, 3. */
  digitWeights: readonly [number, number, number];
  /** Weights of `+`, `-`, `*`. */
  opWeights: readonly [number, number, number];
}

/** Names of the built-in mixes. */
export type ArithMixName = 'prototype' | 'rl-hard';

/**
 * `prototype`: the measured mix of TINY-TASK §1 (k 0.25/0.30/0.25/0.20, dmax 0.3/0.4/0.3).
 * `rl-hard`: the harder mix §6 recommends for RL (k 0.10/0.25/0.30/0.35, dmax 0.2/0.4/0.4; not measured).
 * Both draw `+` 0.4, `-` 0.4, `*` 0.2.
 */
export const ARITH_MIXES: Readonly<Record<ArithMixName, ArithMix>> = {
  prototype: { kWeights: [0.25, 0.3, 0.25, 0.2], digitWeights: [0.3, 0.4, 0.3], opWeights: [0.4, 0.4, 0.2] },
  'rl-hard': { kWeights: [0.1, 0.25, 0.3, 0.35], digitWeights: [0.2, 0.4, 0.4], opWeights: [0.4, 0.4, 0.2] },
};

/** Largest value any intermediate may take. */
export const ARITH_MAX_VALUE = 999;
/** Operand redraws before the fallback step. */
const MAX_TRIES = 20;
const OPS: readonly ArithOp[] = ['+', '-', '*'];

/** A number with exactly `digits` digits (1 digit: 1..9; no leading zero). */
function numberWithDigits(rng: Rng, digits: number): number {
  return digits === 1 ? rng.int(1, 9) : rng.int(10 ** (digits - 1), 10 ** digits - 1);
}

/** Applies one operation. */
export function applyArithOp(op: ArithOp, a: number, b: number): number {
  return op === '+' ? a + b : op === '-' ? a - b : a * b;
}

/** Whether `value op b` keeps the constraints: sums ≤ 999; 1 ≤ b ≤ value for `-`; `*` by 2..9 of a value ≥ 1 with product ≤ 999. */
export function isAllowedArithStep(op: ArithOp, value: number, b: number): boolean {
  if (op === '+') return value + b <= ARITH_MAX_VALUE;
  if (op === '-') return b >= 1 && b <= value;
  return b >= 2 && b <= 9 && value >= 1 && value * b <= ARITH_MAX_VALUE;
}

/**
 * The statement with normal precedence and parentheses only where needed: a `*` after a chain
 * whose last operation is `+`/`-` wraps that chain, so left-to-right and precedence evaluation agree.
 */
export function formatArithExpression(start: number, steps: readonly Pick<ArithStep, 'op' | 'b'>[]): string {
  let expression = String(start);
  let lowestTopLevel: 'sum' | 'product' | 'atom' = 'atom';
  for (const step of steps) {
    if (step.op === '*') {
      expression = lowestTopLevel === 'sum' ? `(${expression}) * ${step.b}` : `${expression} * ${step.b}`;
      lowestTopLevel = 'product';
    } else {
      expression = `${expression} ${step.op} ${step.b}`;
      lowestTopLevel = 'sum';
    }
  }
  return expression;
}

export interface GenerateArithOptions {
  /**
   * The problem mix: a built-in name or explicit weights.
   * @default 'prototype'
   */
  mix?: ArithMixName | ArithMix;
}

function resolveMix(mix: ArithMixName | ArithMix): ArithMix {
  if (typeof mix !== 'string') return mix;
  const found = (ARITH_MIXES as Record<string, ArithMix | undefined>)[mix];
  if (found === undefined) {
    throw new MasaError('ARGUMENT_INVALID', `unknown arithmetic mix "${mix}": use ${Object.keys(ARITH_MIXES).join(' or ')}`, { details: { mix } });
  }
  return found;
}

/**
 * Draws one problem from `rng` (TINY-TASK §1): k operations and a digit budget from the mix;
 * each step draws an operation and an operand, redrawing both (up to 20 times) until the step
 * keeps every value in 0..999; after that it falls back to `+ 1` (or `- 1` at 999).
 */
export function generateArithProblem(rng: Rng, options: GenerateArithOptions = {}): ArithProblem {
  const mix = resolveMix(options.mix ?? 'prototype');
  const k = rng.weighted(mix.kWeights) + 1;
  const dmax = rng.weighted(mix.digitWeights) + 1;
  const start = numberWithDigits(rng, dmax);
  const steps: ArithStep[] = [];
  let value = start;
  for (let index = 0; index < k; index++) {
    let chosen: { op: ArithOp; b: number } | undefined;
    for (let tries = 0; tries < MAX_TRIES && chosen === undefined; tries++) {
      const op = OPS[rng.weighted(mix.opWeights)] as ArithOp;
      const b = op === '*' ? rng.int(2, 9) : numberWithDigits(rng, rng.int(1, dmax));
      if (isAllowedArithStep(op, value, b)) chosen = { op, b };
    }
    chosen ??= value < ARITH_MAX_VALUE ? { op: '+', b: 1 } : { op: '-', b: 1 };
    const result = applyArithOp(chosen.op, value, chosen.b);
    steps.push({ op: chosen.op, a: value, b: chosen.b, result });
    value = result;
  }
  return { text: `Compute ${formatArithExpression(start, steps)}.`, start, steps, answer: value, k, dmax };
}

/**
 * Recovers a problem from its statement (`Compute … .`), e.g. for rows loaded from
 * `datasets/synthetic/*.jsonl`. Parentheses only ever wrap a prefix, so the numbers and
 * operators read left to right are the chain. `dmax` is the start's digit count.
 */
export function parseArithProblem(text: string): ArithProblem {
  const match = /^Compute (.+)\.$/.exec(text);
  const tokens = match?.[1]?.replace(/[()]/g, '').trim().split(/\s+/) ?? [];
  const invalid = (): MasaError =>
    new MasaError('DATASET_INVALID', `not an arithmetic-chain problem: "${text}" (expected "Compute 47 + 38 * 3."-style text from the synthetic-arith generator)`, {
      details: { text },
    });
  if (tokens.length < 3 || tokens.length % 2 === 0) throw invalid();
  const numbers = tokens.filter((_, index) => index % 2 === 0).map((token) => (/^\d+$/.test(token) ? Number(token) : Number.NaN));
  const ops = tokens.filter((_, index) => index % 2 === 1);
  if (numbers.some((number) => Number.isNaN(number)) || ops.some((op) => !OPS.includes(op as ArithOp))) throw invalid();
  const start = numbers[0] as number;
  const steps: ArithStep[] = [];
  let value = start;
  ops.forEach((op, index) => {
    const b = numbers[index + 1] as number;
    const result = applyArithOp(op as ArithOp, value, b);
    steps.push({ op: op as ArithOp, a: value, b, result });
    value = result;
  });
  if (formatArithExpression(start, steps) !== match?.[1]) throw invalid();
  return { text, start, steps, answer: value, k: steps.length, dmax: String(start).length };
}
