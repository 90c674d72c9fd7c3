import { MasaError } from '@masa-rl/core';
import type { MetaRewardResult } from './meta-reward.js';

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2;
}

/** Population standard deviation (divides by n). */
function populationStd(values: readonly number[], center: number): number {
  let squares = 0;
  for (const value of values) squares += (value - center) * (value - center);
  return Math.sqrt(squares / values.length);
}

// ---------------------------------------------------------------------------
// Reward summary

/** One meta rollout's parse outcome and reward. */
export interface MetaRewardRecord {
  /** Whether a JSON object was parsed ({@link MetaParseResult.ok}). */
  ok: boolean;
  reward: Pick<MetaRewardResult, 'score' | 'notionScore' | 'passRateScore' | 'lengthScore'>;
}

/** Averages over meta rollouts; `null` when there are none. */
export interface MetaRewardSummary {
  count: number;
  /** Share of rollouts whose prediction parsed. */
  parseRate: number | null;
  meanScore: number | null;
  meanNotionScore: number | null;
  meanPassRateScore: number | null;
  meanLengthScore: number | null;
}

export interface SummarizeMetaRewardsOptions {
  records: readonly MetaRewardRecord[];
}

/** Parse rate and the mean of the meta reward and of each sub-score. */
export function summarizeMetaRewards(options: SummarizeMetaRewardsOptions): MetaRewardSummary {
  const { records } = options;
  return {
    count: records.length,
    parseRate: mean(records.map((record) => (record.ok ? 1 : 0))),
    meanScore: mean(records.map((record) => record.reward.score)),
    meanNotionScore: mean(records.map((record) => record.reward.notionScore)),
    meanPassRateScore: mean(records.map((record) => record.reward.passRateScore)),
    meanLengthScore: mean(records.map((record) => record.reward.lengthScore)),
  };
}

// ---------------------------------------------------------------------------
// Pass-rate calibration

/** One predicted pass count against the true pass rate of the same question. */
export interface PassRatePair {
  /** Predicted pass count (0..scale), or `null` when the prediction was unusable ({@link validPassCount}). */
  predictedPassCount: number | null;
  /** True pass rate in [0, 1] (correct / G). */
  truePassRate: number;
}

/** One row of the reliability table. */
export interface ReliabilityBin {
  /** The predicted pass count of this bin (0..scale). */
  predictedPassCount: number;
  count: number;
  /** Mean predicted rate (= predictedPassCount / scale); `null` for an empty bin. */
  meanPredictedPassRate: number | null;
  /** Mean true pass rate of the questions in this bin; `null` for an empty bin. */
  meanTruePassRate: number | null;
}

/** How well predicted pass rates match the truth. `null` where undefined (no data, no variance). */
export interface PassRateCalibration {
  /** Pairs with a usable prediction. */
  count: number;
  /** Pairs without one (excluded from everything else). */
  invalidCount: number;
  /** Mean |p̂ − p| in rate units [0, 1]. */
  maePassRate: number | null;
  /** The same in pass-count units (× scale), as TINY-TASK.md reports it. */
  maePassCount: number | null;
  /** Mean (p̂ − p): positive when over-confident. */
  bias: number | null;
  /** Pearson correlation of p̂ and p. */
  pearson: number | null;
  /** One bin per predicted count 0..scale. */
  reliability: ReliabilityBin[];
}

export interface PassRateCalibrationOptions {
  pairs: readonly PassRatePair[];
  /** @default 8 */
  passRateScale?: number;
}

/** Pearson correlation; `null` with fewer than two points or a constant side. */
export function pearsonCorrelation(xs: readonly number[], ys: readonly number[]): number | null {
  if (xs.length !== ys.length || xs.length < 2) return null;
  const meanX = mean(xs) ?? 0;
  const meanY = mean(ys) ?? 0;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  xs.forEach((x, index) => {
    const y = ys[index] ?? 0;
    covariance += (x - meanX) * (y - meanY);
    varianceX += (x - meanX) * (x - meanX);
    varianceY += (y - meanY) * (y - meanY);
  });
  if (varianceX === 0 || varianceY === 0) return null;
  return covariance / Math.sqrt(varianceX * varianceY);
}

/**
 * Pass-rate calibration of meta predictions: MAE (rate and count units),
 * bias, Pearson correlation, and a reliability table by predicted count.
 *
 * @throws MasaError `ARGUMENT_INVALID` for a true pass rate outside [0, 1],
 * `CONFIG_INVALID` for a bad scale.
 */
export function passRateCalibration(options: PassRateCalibrationOptions): PassRateCalibration {
  const { pairs, passRateScale = 8 } = options;
  if (!Number.isInteger(passRateScale) || passRateScale < 1) {
    throw new MasaError('CONFIG_INVALID', `passRateScale is ${String(passRateScale)}; it must be a positive integer (default 8).`);
  }
  const predicted: number[] = [];
  const truth: number[] = [];
  const bins = Array.from({ length: passRateScale + 1 }, () => [] as number[]);
  let invalidCount = 0;
  pairs.forEach((pair, index) => {
    const { predictedPassCount: count, truePassRate } = pair;
    if (!(typeof truePassRate === 'number' && truePassRate >= 0 && truePassRate <= 1)) {
      throw new MasaError('ARGUMENT_INVALID', `pairs[${index}].truePassRate is ${String(truePassRate)}; pass correct/G in [0, 1].`, {
        details: { index },
      });
    }
    if (count === null || !Number.isInteger(count) || count < 0 || count > passRateScale) {
      invalidCount++;
      return;
    }
    predicted.push(count / passRateScale);
    truth.push(truePassRate);
    bins[count]?.push(truePassRate);
  });
  const errors = predicted.map((value, index) => value - (truth[index] ?? 0));
  const maePassRate = mean(errors.map(Math.abs));
  return {
    count: predicted.length,
    invalidCount,
    maePassRate,
    maePassCount: maePassRate === null ? null : maePassRate * passRateScale,
    bias: mean(errors),
    pearson: pearsonCorrelation(predicted, truth),
    reliability: bins.map((values, count) => ({
      predictedPassCount: count,
      count: values.length,
      meanPredictedPassRate: values.length === 0 ? null : count / passRateScale,
      meanTruePassRate: mean(values),
    })),
  };
}

// ---------------------------------------------------------------------------
// Standardised length error

/** One question: its meta rollouts' predicted lengths and its solution rollouts' true lengths. */
export interface LengthErrorQuestion {
  /** Valid predicted `solution_length` values of the question's meta rollouts ({@link validSolutionLength}). */
  predictedLengths: readonly number[];
  correctLengths: readonly number[];
  incorrectLengths: readonly number[];
}

/** Distribution over questions of the standardised length error of one class of rollouts. */
export interface LengthErrorSummary {
  /** One value per question that had a defined error, in input order. */
  values: number[];
  mean: number | null;
  median: number | null;
  /** Questions without a defined error (no rollout of this class, fewer than two predictions, or zero spread). */
  skipped: number;
}

export interface StandardizedLengthErrorOptions {
  questions: readonly LengthErrorQuestion[];
}

/**
 * The v2 paper's cutoff diagnostic, per question:
 * `(mean true length − mean predicted length) / std(predicted length)`, with
 * the population std of that question's predicted lengths, computed
 * separately over its correct and its incorrect rollouts. A calibrated model
 * centres the correct-rollout errors at 0; incorrect rollouts run long.
 */
export function standardizedLengthError(options: StandardizedLengthErrorOptions): {
  correct: LengthErrorSummary;
  incorrect: LengthErrorSummary;
} {
  const correct: number[] = [];
  const incorrect: number[] = [];
  let skippedCorrect = 0;
  let skippedIncorrect = 0;
  for (const question of options.questions) {
    const predictedMean = mean(question.predictedLengths);
    const spread = predictedMean === null || question.predictedLengths.length < 2 ? 0 : populationStd(question.predictedLengths, predictedMean);
    const standardize = (lengths: readonly number[]): number | null => {
      const trueMean = mean(lengths);
      if (trueMean === null || predictedMean === null || spread === 0) return null;
      return (trueMean - predictedMean) / spread;
    };
    const correctError = standardize(question.correctLengths);
    if (correctError === null) skippedCorrect++;
    else correct.push(correctError);
    const incorrectError = standardize(question.incorrectLengths);
    if (incorrectError === null) skippedIncorrect++;
    else incorrect.push(incorrectError);
  }
  return {
    correct: { values: correct, mean: mean(correct), median: median(correct), skipped: skippedCorrect },
    incorrect: { values: incorrect, mean: mean(incorrect), median: median(incorrect), skipped: skippedIncorrect },
  };
}
