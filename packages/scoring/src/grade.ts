/**
 * One grade, synchronously and in-process: extraction (when given a whole
 * response) plus equivalence, with the deciding rule in the verdict. There is
 * no deadline here; batch grading goes through the worker pool.
 */
import type { GradeVerdict } from '@masa-rl/core';
import { extractChoice, extractLogicChoice, extractMathAnswer } from './extract.js';
import { mathEqual, type GradingMode } from './math-equal.js';
import { masaExtractAnswer, masaChoiceOf, masaResponseChoice } from './parity/masa-extract.js';
import { masaMathEqual } from './parity/masa-math-equal.js';
import { masaStripString } from './parity/masa-normalize.js';

/** Kinds graded synchronously (code runs in the Python sandbox: see {@link gradeCode}). */
export type SyncAnswerKind = 'math' | 'choice';

/** One thing to grade. Give either `pred` (a bare answer) or `response` (a whole model output). */
export interface GradeRequest {
  /** `math` or `choice`. */
  kind: SyncAnswerKind;
  /** The gold answer. */
  gold: string;
  /** A bare predicted answer (no extraction). */
  pred?: string;
  /** A whole response; the answer is extracted first. */
  response?: string;
  /**
   * Which grader.
   * @default 'correct'
   */
  mode?: GradingMode;
  /**
   * Choice labels of the problem, one character each.
   * @default 'ABCDEFGH' (plus the gold label when it is not among them)
   */
  labels?: string;
  /**
   * Choice only: the logic sets' rule (the text after the last "The correct option is:").
   * @default false
   */
  logic?: boolean;
}

function choiceLabels(gold: string, labels: string | undefined): string {
  const base = (labels ?? 'ABCDEFGH').toUpperCase();
  const goldLabel = gold.trim().toUpperCase();
  return goldLabel.length === 1 && !base.includes(goldLabel) ? base + goldLabel : base;
}

function gradeChoice(request: GradeRequest): { equal: boolean; reason: string; extracted?: string } {
  const mode = request.mode ?? 'correct';
  if (mode === 'masa-parity') {
    const gold = masaChoiceOf(request.gold);
    const pred =
      request.response !== undefined ? masaResponseChoice(request.response, request.logic ?? false) : masaChoiceOf(request.pred ?? '');
    const extracted = pred ?? 'N/A';
    return { equal: pred === gold, reason: pred === gold ? (gold === null ? 'parity-choice-both-none' : 'parity-choice') : 'parity-choice-mismatch', extracted };
  }
  const labels = choiceLabels(request.gold, request.labels);
  const goldLetter = request.gold.trim().toUpperCase();
  const text = request.response ?? request.pred ?? '';
  const found = request.logic ? extractLogicChoice(text, { labels }) : extractChoice(text, { labels });
  if (found.letter === undefined) return { equal: false, reason: 'no-choice-extracted' };
  const equal = found.letter === goldLetter;
  return { equal, reason: equal ? `choice-${found.rule}` : `choice-mismatch-${found.rule}`, extracted: found.letter };
}

function gradeMath(request: GradeRequest): { equal: boolean; reason: string; extracted?: string } {
  const mode = request.mode ?? 'correct';
  if (request.response === undefined) {
    const decision = mathEqual(request.gold, request.pred ?? '', { mode });
    return decision;
  }
  if (mode === 'masa-parity') {
    const extracted = masaExtractAnswer(request.response);
    const decision = masaMathEqual(extracted, masaStripString(request.gold));
    return { ...decision, extracted };
  }
  const found = extractMathAnswer(request.response);
  if (found.answer === undefined) return { equal: false, reason: 'no-answer-extracted' };
  const decision = mathEqual(request.gold, found.answer, { mode });
  return { equal: decision.equal, reason: `${found.rule}:${decision.reason}`, extracted: found.answer };
}

/** Milliseconds since an arbitrary origin (monotonic). */
function now(): number {
  return performance.now();
}

/**
 * Grades one request in this thread, without a deadline. A thrown error
 * becomes a verdict with `status: 'error'` and `equal: false`.
 */
export function gradeSync(request: GradeRequest): GradeVerdict {
  const start = now();
  try {
    const result = request.kind === 'choice' ? gradeChoice(request) : gradeMath(request);
    const verdict: GradeVerdict = { equal: result.equal, reason: result.reason, ms: now() - start, status: 'ok' };
    if (result.extracted !== undefined) verdict.extracted = result.extracted;
    return verdict;
  } catch (error: unknown) {
    return {
      equal: false,
      reason: 'error',
      ms: now() - start,
      status: 'error',
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
