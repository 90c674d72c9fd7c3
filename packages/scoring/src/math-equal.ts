/**
 * Math answer equivalence, two modes:
 *  - `correct` (default): normalisation → structure → comparator (SCORING.md §4–§5);
 *  - `masa-parity`: the MASA reference normaliser and `math_equal` cascade.
 */
import { compareAnswers, type Decision } from './compare.js';
import { normalizeAnswerText } from './normalize.js';
import { masaMathEqual } from './parity/masa-math-equal.js';
import { masaStripString } from './parity/masa-normalize.js';
import { parseStructure, MAX_STRUCTURE_LENGTH } from './structure.js';

/** Which grader runs. */
export type GradingMode = 'correct' | 'masa-parity';

/** Longest gold or prediction (characters) that correct mode analyses; longer ones are only compared as exact strings. */
export const MAX_ANSWER_LENGTH = 20_000;

export const GRADING_MODES: readonly GradingMode[] = ['correct', 'masa-parity'];

export interface MathEqualOptions {
  /**
   * `correct` follows the decided policy; `masa-parity` reproduces the reference grader, bugs included.
   * @default 'correct'
   */
  mode?: GradingMode;
  /**
   * In parity mode, whether the gold is normalised with `strip_string` first (evaluation does, training does not).
   * @default true
   */
  normalizeGold?: boolean;
}

/**
 * Is `pred` the same answer as `gold`? Synchronous and without a deadline:
 * callers that need one use the worker pool ({@link createGradePool}).
 */
export function mathEqual(gold: string, pred: string, options: MathEqualOptions = {}): Decision {
  const { mode = 'correct', normalizeGold = true } = options;
  if (mode === 'masa-parity') {
    const reference = normalizeGold ? masaStripString(gold) : gold;
    return masaMathEqual(masaStripString(pred), reference);
  }
  if (gold === pred) return { equal: true, reason: 'exact-string' };
  // No real answer is this long; refusing early keeps every rule below cheap on adversarial input.
  if (gold.length > MAX_ANSWER_LENGTH || pred.length > MAX_ANSWER_LENGTH) return { equal: false, reason: 'too-long' };
  const goldText = normalizeAnswerText(gold);
  const predText = normalizeAnswerText(pred);
  if (goldText.replace(/\s+/g, '') === predText.replace(/\s+/g, '')) return { equal: true, reason: 'normalized-string' };
  if (goldText.length > MAX_STRUCTURE_LENGTH || predText.length > MAX_STRUCTURE_LENGTH) return { equal: false, reason: 'too-long' };
  return compareAnswers(parseStructure(goldText), parseStructure(predText));
}
