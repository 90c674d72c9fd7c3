import { MasaError } from '@masa-rl/core';

/** One solution rollout of a question, as the meta reward sees it. */
export interface SolutionRollout {
  /** Decoded response text (special tokens removed). */
  text: string;
  /** 1 if the answer was graded correct, else 0. */
  score: number;
  /** Response length in tokens including EOS (characters for the tiny task). */
  length: number;
}

/** The true statistics of a question's G solution rollouts. */
export interface SolutionStats {
  readonly rollouts: readonly SolutionRollout[];
  /** G, the number of rollouts. */
  readonly count: number;
  readonly correctCount: number;
  /** correctCount / count, in [0, 1]. */
  readonly passRate: number;
  /** True when every rollout is correct or every rollout is wrong (GRPO advantage 0). */
  readonly zeroVariance: boolean;
  readonly correctLengths: readonly number[];
  readonly incorrectLengths: readonly number[];
  /** `null` when no rollout is correct. */
  readonly minCorrectLength: number | null;
  readonly maxCorrectLength: number | null;
  readonly meanCorrectLength: number | null;
  /** `null` when every rollout is correct. */
  readonly meanIncorrectLength: number | null;
  readonly meanLength: number;
}

export interface ComputeSolutionStatsOptions {
  /** The G solution rollouts of one question (at least one). */
  rollouts: readonly SolutionRollout[];
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/**
 * Per-question statistics of the solution rollouts: pass rate and the lengths
 * of correct and incorrect rollouts. Used by the meta reward, the gating
 * metrics and expert selection.
 *
 * @throws MasaError `ARGUMENT_INVALID` for an empty group, a score other than
 * 0/1, or a negative or non-finite length.
 */
export function computeSolutionStats(options: ComputeSolutionStatsOptions): SolutionStats {
  const { rollouts } = options;
  if (!Array.isArray(rollouts) || rollouts.length === 0) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      'computeSolutionStats needs at least one solution rollout per question: pass `rollouts` with the G scored solutions of the question (a gated question has no statistics; skip its meta reward).',
    );
  }
  const correctLengths: number[] = [];
  const incorrectLengths: number[] = [];
  rollouts.forEach((rollout, index) => {
    const { score, length, text } = rollout;
    if (score !== 0 && score !== 1) {
      throw new MasaError('ARGUMENT_INVALID', `rollouts[${index}].score is ${String(score)}; solution scores must be 0 or 1 (grade the rollout first).`, {
        details: { index, score },
      });
    }
    if (typeof length !== 'number' || !Number.isFinite(length) || length < 0) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `rollouts[${index}].length is ${String(length)}; pass the response length in tokens (including EOS) as a finite number ≥ 0.`,
        { details: { index, length } },
      );
    }
    if (typeof text !== 'string') {
      throw new MasaError('ARGUMENT_INVALID', `rollouts[${index}].text is not a string; pass the decoded response text.`, {
        details: { index },
      });
    }
    (score === 1 ? correctLengths : incorrectLengths).push(length);
  });
  const correctCount = correctLengths.length;
  const count = rollouts.length;
  return {
    rollouts,
    count,
    correctCount,
    passRate: correctCount / count,
    zeroVariance: correctCount === 0 || correctCount === count,
    correctLengths,
    incorrectLengths,
    minCorrectLength: correctCount === 0 ? null : correctLengths.reduce((a, b) => Math.min(a, b)),
    maxCorrectLength: correctCount === 0 ? null : correctLengths.reduce((a, b) => Math.max(a, b)),
    meanCorrectLength: mean(correctLengths),
    meanIncorrectLength: mean(incorrectLengths),
    meanLength: mean([...correctLengths, ...incorrectLengths]) ?? 0,
  };
}
