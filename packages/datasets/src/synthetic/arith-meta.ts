import type { ArithProblem } from './arith-problem.js';
import { ARITH_STYLE_WEIGHTS, arithAnswerSentence, columnWork, renderArithStep } from './arith-solution.js';

/** The five notion words of the task (the vocabulary of its meta predictions). */
export const ARITH_NOTIONS = ['addition', 'subtraction', 'multiplication', 'carry', 'borrow'] as const;

/** The solution prompt: the problem and a newline. */
export function arithSolutionPrompt(problem: Pick<ArithProblem, 'text'>): string {
  return `${problem.text}\n`;
}

/** The meta prompt: `Meta: ` + the solution prompt. */
export function arithMetaPrompt(problem: Pick<ArithProblem, 'text'>): string {
  return `Meta: ${arithSolutionPrompt(problem)}`;
}

/** Python's `round()`: to the nearest integer, ties to even. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The heuristic meta target of one problem (deliberately imperfect, TINY-TASK §1). */
export interface ArithMetaTarget {
  /** Operation names in order of first use, then `carry` / `borrow` if any step's column work has one. */
  notions: string[];
  /** round(8 · Π (0.97 − 0.07·(digits of max(a, b) − 1) − 0.05·[carry or borrow])). */
  passRate: number;
  /** Expected response length in characters under the style mixture, +1 per sentence (separator/EOS). */
  solutionLength: number;
  /** The SFT target text, as Python's `json.dumps` writes it: `{"math_notion": [...], "pass_rate": k, "solution_length": n}`. */
  json: string;
}

const OP_NOTIONS = { '+': 'addition', '-': 'subtraction', '*': 'multiplication' } as const;

/** Computes the heuristic meta target of a problem. */
export function arithMetaTarget(problem: ArithProblem): ArithMetaTarget {
  const notions: string[] = [];
  let carry = false;
  let borrow = false;
  let product = 1;
  let expected = 0;
  for (const step of problem.steps) {
    const name = OP_NOTIONS[step.op];
    if (!notions.includes(name)) notions.push(name);
    const work = columnWork(step);
    carry ||= work.carry;
    borrow ||= work.borrow;
    const digits = String(Math.max(step.a, step.b)).length;
    product *= 0.97 - 0.07 * (digits - 1) - 0.05 * (work.carry || work.borrow ? 1 : 0);
    expected +=
      ARITH_STYLE_WEIGHTS.short * renderArithStep(step, 'short').length +
      ARITH_STYLE_WEIGHTS.named * renderArithStep(step, 'named').length +
      ARITH_STYLE_WEIGHTS.long * renderArithStep(step, 'long').length +
      1;
  }
  if (carry) notions.push('carry');
  if (borrow) notions.push('borrow');
  expected += arithAnswerSentence(problem.answer).length + 1;
  const passRate = roundHalfEven(8 * product);
  const solutionLength = roundHalfEven(expected);
  const json = `{"math_notion": [${notions.map((notion) => JSON.stringify(notion)).join(', ')}], "pass_rate": ${passRate}, "solution_length": ${solutionLength}}`;
  return { notions, passRate, solutionLength, json };
}
