import type { Rng } from '@masa-rl/core';
import type { ArithProblem, ArithStep } from './arith-problem.js';

/** How one step of a response is written (TINY-TASK §1). */
export type ArithStyle = 'short' | 'named' | 'long';

/** The column work of one step and whether it carries or borrows. */
export interface ColumnWork {
  /** The columns, e.g. `7+8=15 carry 1, 4+3+1=8`. */
  text: string;
  carry: boolean;
  borrow: boolean;
}

/** Digits, units first. */
function digitsOf(value: number): number[] {
  return String(value)
    .split('')
    .reverse()
    .map((digit) => Number(digit));
}

function additionColumns(a: number, b: number): ColumnWork {
  const top = digitsOf(a);
  const bottom = digitsOf(b);
  const last = Math.max(top.length, bottom.length) - 1;
  const columns: string[] = [];
  let carry = 0;
  let carried = false;
  for (let index = 0; index <= last; index++) {
    if (index >= bottom.length && carry === 0) break;
    const terms = [top[index], bottom[index], carry === 1 ? 1 : undefined].filter((term): term is number => term !== undefined);
    const sum = terms.reduce((total, term) => total + term, 0);
    const carries = sum >= 10 && index < last;
    columns.push(`${terms.join('+')}=${sum}${carries ? ' carry 1' : ''}`);
    carried ||= carries;
    carry = sum >= 10 ? 1 : 0;
  }
  return { text: columns.join(', '), carry: carried, borrow: false };
}

function subtractionColumns(a: number, b: number): ColumnWork {
  const top = digitsOf(a);
  const bottom = digitsOf(b);
  const columns: string[] = [];
  let borrow = 0;
  let borrowed = false;
  for (let index = 0; index < top.length; index++) {
    if (index >= bottom.length && borrow === 0) break;
    const digit = top[index] as number;
    const under = bottom[index];
    const needed = (under ?? 0) + borrow;
    const borrows = digit < needed;
    const result = digit + (borrows ? 10 : 0) - needed;
    columns.push(`${borrows ? 1 : ''}${digit}${under === undefined ? '' : `-${under}`}${borrow === 1 ? '-1' : ''}=${result}${borrows ? ' borrow 1' : ''}`);
    borrowed ||= borrows;
    borrow = borrows ? 1 : 0;
  }
  return { text: columns.join(', '), carry: false, borrow: borrowed };
}

function multiplicationColumns(a: number, m: number): ColumnWork {
  const top = digitsOf(a);
  const columns: string[] = [];
  let carry = 0;
  let carried = false;
  top.forEach((digit, index) => {
    const product = digit * m + carry;
    const last = index === top.length - 1;
    const carries = product >= 10 && !last;
    columns.push(`${digit}*${m}${carry > 0 ? `+${carry}` : ''}=${product}${carries ? ` carry ${Math.floor(product / 10)}` : ''}`);
    carried ||= carries;
    carry = Math.floor(product / 10);
  });
  return { text: columns.join(', '), carry: carried, borrow: false };
}

/**
 * The column scratchpad of one step, units first:
 * - addition: the digits present (and `1` for an incoming carry) joined by `+`, `=` the column
 *   sum, ` carry 1` when it is ≥ 10 except in the last column; stops once the second operand is
 *   used up and nothing is carried (`47 + 38` → `7+8=15 carry 1, 4+3+1=8`);
 * - subtraction: the top digit (with a `1` before it when the column borrows), `-u` for the
 *   bottom digit, `-1` for an incoming borrow, `=` result, ` borrow 1`; stops once the bottom
 *   operand is used up and nothing is borrowed (`305 - 17` → `15-7=8 borrow 1, 10-1-1=8 borrow 1, 3-1=2`);
 * - multiplication by a digit: every column, `d*m`, `+c` for an incoming carry, `=p`,
 *   ` carry ⌊p/10⌋` when p ≥ 10 except in the last column (`66 * 3` → `6*3=18 carry 1, 6*3+1=19`).
 */
export function columnWork(step: Pick<ArithStep, 'op' | 'a' | 'b'>): ColumnWork {
  if (step.op === '+') return additionColumns(step.a, step.b);
  if (step.op === '-') return subtractionColumns(step.a, step.b);
  return multiplicationColumns(step.a, step.b);
}

const OP_NAMES = { '+': 'Addition', '-': 'Subtraction', '*': 'Multiplication' } as const;

/**
 * One sentence of a response:
 * short `47 + 38 = 85.`; named `Addition with carry: 47 + 38 = 85.`; long `47 + 38: 7+8=15 carry 1, 4+3+1=8, so 85.`
 */
export function renderArithStep(step: ArithStep, style: ArithStyle): string {
  const equation = `${step.a} ${step.op} ${step.b}`;
  if (style === 'short') return `${equation} = ${step.result}.`;
  const work = columnWork(step);
  if (style === 'named') {
    const suffix = work.carry ? ' with carry' : work.borrow ? ' with borrow' : '';
    return `${OP_NAMES[step.op]}${suffix}: ${equation} = ${step.result}.`;
  }
  return `${equation}: ${work.text}, so ${step.result}.`;
}

/** The closing sentence: `The answer is \boxed{N}.` */
export function arithAnswerSentence(answer: number): string {
  return `The answer is \\boxed{${answer}}.`;
}

/** A response from given styles: the step sentences and the answer sentence, separated by spaces. */
export function renderArithSolution(problem: ArithProblem, styles: readonly ArithStyle[]): string {
  return [...problem.steps.map((step, index) => renderArithStep(step, styles[index] ?? 'short')), arithAnswerSentence(problem.answer)].join(' ');
}

/** Probabilities of short / named / long per step. */
export const ARITH_STYLE_WEIGHTS: Readonly<Record<ArithStyle, number>> = { short: 0.4, named: 0.25, long: 0.35 };
const STYLES: readonly ArithStyle[] = ['short', 'named', 'long'];

export interface SampleArithSolutionOptions {
  /**
   * Character budget for prompt (problem + newline) + response + EOS (one character).
   * 256 as in the prototype; 320 for long RL runs (TINY-TASK §6).
   * @default 256
   */
  contextChars?: number;
}

/** A sampled SFT target. */
export interface ArithSolution {
  text: string;
  styles: ArithStyle[];
}

/**
 * Samples a response: each step independently short/named/long (0.40/0.25/0.35). If prompt +
 * response + EOS would exceed `contextChars`, random long steps are downgraded to short until
 * it fits (or none is left).
 */
export function sampleArithSolution(problem: ArithProblem, rng: Rng, options: SampleArithSolutionOptions = {}): ArithSolution {
  const { contextChars = 256 } = options;
  const weights = STYLES.map((style) => ARITH_STYLE_WEIGHTS[style]);
  const styles = problem.steps.map(() => STYLES[rng.weighted(weights)] as ArithStyle);
  const promptChars = problem.text.length + 1;
  let text = renderArithSolution(problem, styles);
  while (promptChars + text.length + 1 > contextChars) {
    const long = styles.flatMap((style, index) => (style === 'long' ? [index] : []));
    if (long.length === 0) break;
    styles[rng.pick(long)] = 'short';
    text = renderArithSolution(problem, styles);
  }
  return { text, styles };
}

/**
 * Grades a response: the last `\boxed{…}` parsed as an integer must equal the answer.
 */
export function gradeArithResponse(response: string, answer: number | string): boolean {
  const matches = [...response.matchAll(/\\boxed\{([^{}]*)\}/g)];
  const last = matches.at(-1)?.[1]?.trim();
  return last !== undefined && /^-?\d+$/.test(last) && Number(last) === Number(answer);
}
