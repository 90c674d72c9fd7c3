import { MasaError } from '@masa-rl/core';
import type { ParsedMetaPrediction } from './meta-reward.js';

/** Why a question was or was not gated. */
export type GateReason = 'all-wrong' | 'all-right' | 'uncertain' | 'too-few-valid';

/** Result of {@link decidePredictiveGate}. */
export interface GateDecision {
  /** True: skip this question's solution rollouts. */
  gate: boolean;
  reason: GateReason;
  /** Meta predictions with a valid `pass_rate`. */
  validCount: number;
  /** Mean of the valid p̂ = pass_rate / scale; `null` when none is valid. */
  meanPassRate: number | null;
  /** Population standard deviation of the valid p̂; `null` when none is valid. */
  stdPassRate: number | null;
}

export interface DecidePredictiveGateOptions {
  /** The parsed meta predictions of one question (M of them; unparseable ones are ignored). */
  predictions: readonly ParsedMetaPrediction[];
  /** σ_PG: gate only when the spread of predictions is below this (strict). @default 0.1 */
  stdThreshold?: number;
  /**
   * ε: the mean prediction counts as "all wrong" when ≤ ε and as "all right"
   * when ≥ 1 − ε. 0 is the literal rule of the paper (then the std test is
   * redundant); 1/16 gates when, e.g., seven of eight predictions say 0/8 and
   * one says 1/8.
   * @default 1/16
   */
  tolerance?: number;
  /** Fewer valid predictions than this → never gate. @default 2 */
  minValid?: number;
  /** Predicted pass_rate is a count out of this many. @default 8 */
  passRateScale?: number;
}

/**
 * The predicted pass count of a parsed meta prediction when it is usable: an
 * integer literal (or boolean) in [0, scale]; else `null`.
 */
export function validPassCount(parsed: ParsedMetaPrediction, passRateScale = 8): number | null {
  const value = parsed.prediction.passRate;
  if (!parsed.intKeys.includes('pass_rate') || typeof value !== 'number') return null;
  return value >= 0 && value <= passRateScale ? value : null;
}

/**
 * The predicted solution length of a parsed meta prediction when it is
 * usable: a finite integer literal ≥ 1; else `null`.
 */
export function validSolutionLength(parsed: ParsedMetaPrediction): number | null {
  const value = parsed.prediction.solutionLength;
  if (!parsed.intKeys.includes('solution_length') || typeof value !== 'number') return null;
  return Number.isFinite(value) && value >= 1 ? value : null;
}

function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) * (value - mean);
  return { mean, std: Math.sqrt(squares / values.length) };
}

function checkPositiveInteger(name: string, value: number, hint: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new MasaError('CONFIG_INVALID', `${name} is ${String(value)}; it must be a positive integer (${hint}).`);
  }
}

/**
 * Predictive gating (MASA-SPEC §10.3): skip a question's solution rollouts
 * when its meta predictions agree that it is all wrong or all right.
 *
 * A prediction is valid when its `pass_rate` is an integer literal in
 * [0, scale]; invalid and unparseable ones are ignored. With fewer than
 * `minValid` valid predictions the question is not gated. Otherwise
 * `gate = std(p̂) < σ_PG && (mean(p̂) ≤ ε || mean(p̂) ≥ 1 − ε)` with the
 * population standard deviation.
 *
 * @throws MasaError `CONFIG_INVALID` for thresholds out of range.
 */
export function decidePredictiveGate(options: DecidePredictiveGateOptions): GateDecision {
  const { predictions, stdThreshold = 0.1, tolerance = 1 / 16, minValid = 2, passRateScale = 8 } = options;
  if (!Array.isArray(predictions)) {
    throw new MasaError('ARGUMENT_INVALID', 'decidePredictiveGate: `predictions` must be the parsed meta predictions of one question.');
  }
  if (!(Number.isFinite(stdThreshold) && stdThreshold >= 0)) {
    throw new MasaError('CONFIG_INVALID', `stdThreshold (σ_PG) is ${String(stdThreshold)}; it must be a number ≥ 0 (default 0.1).`);
  }
  if (!(Number.isFinite(tolerance) && tolerance >= 0 && tolerance < 0.5)) {
    throw new MasaError('CONFIG_INVALID', `tolerance (ε) is ${String(tolerance)}; it must be in [0, 0.5) (0 is the literal rule, default 1/16).`);
  }
  checkPositiveInteger('minValid', minValid, 'default 2');
  if (!(Number.isFinite(passRateScale) && passRateScale > 0)) {
    throw new MasaError('CONFIG_INVALID', `passRateScale is ${String(passRateScale)}; it must be a positive number (default 8).`);
  }

  const rates: number[] = [];
  for (const parsed of predictions) {
    const count = validPassCount(parsed, passRateScale);
    if (count !== null) rates.push(count / passRateScale);
  }
  if (rates.length === 0) return { gate: false, reason: 'too-few-valid', validCount: 0, meanPassRate: null, stdPassRate: null };
  const { mean, std } = meanAndStd(rates);
  const base = { validCount: rates.length, meanPassRate: mean, stdPassRate: std };
  if (rates.length < minValid) return { gate: false, reason: 'too-few-valid', ...base };
  if (std < stdThreshold && mean <= tolerance) return { gate: true, reason: 'all-wrong', ...base };
  if (std < stdThreshold && mean >= 1 - tolerance) return { gate: true, reason: 'all-right', ...base };
  return { gate: false, reason: 'uncertain', ...base };
}

/** Result of {@link computeCutoffBudget}. */
export interface CutoffBudget {
  /** Token budget for each of the question's solution rollouts. */
  maxNewTokens: number;
  /** l̂, the mean of the valid predicted lengths; `null` when none is valid. */
  predictedLength: number | null;
  /** Meta predictions with a valid `solution_length`. */
  validCount: number;
  /** True when the budget is below `maxNewTokens` given in the options. */
  capped: boolean;
}

export interface ComputeCutoffBudgetOptions {
  /** The parsed meta predictions of one question. */
  predictions: readonly ParsedMetaPrediction[];
  /** The global response cap (Lr); the budget never exceeds it. */
  maxNewTokens: number;
  /** l_LC: the budget is this multiple of the predicted length. @default 2 */
  lengthFactor?: number;
}

/**
 * Round up, forgiving float error: `1.1 × 100` is 110.00000000000001 in
 * binary floating point and must give 110, not 111.
 */
function ceilTolerant(value: number): number {
  const nearest = Math.round(value);
  return Math.abs(value - nearest) <= 1e-9 * Math.max(1, Math.abs(value)) ? nearest : Math.ceil(value);
}

/**
 * Early length cutoff (MASA-SPEC §10.3): the per-rollout token budget
 * `min(maxNewTokens, ceil(l_LC × l̂))`, where l̂ is the mean of the valid
 * predicted `solution_length` values (integer literals ≥ 1). Without a valid
 * prediction the budget is `maxNewTokens`.
 *
 * @throws MasaError `CONFIG_INVALID` for a non-positive `maxNewTokens` or `lengthFactor`.
 */
export function computeCutoffBudget(options: ComputeCutoffBudgetOptions): CutoffBudget {
  const { predictions, maxNewTokens, lengthFactor = 2 } = options;
  if (!Array.isArray(predictions)) {
    throw new MasaError('ARGUMENT_INVALID', 'computeCutoffBudget: `predictions` must be the parsed meta predictions of one question.');
  }
  checkPositiveInteger('maxNewTokens', maxNewTokens, 'the response cap, e.g. 8192');
  if (!(Number.isFinite(lengthFactor) && lengthFactor > 0)) {
    throw new MasaError('CONFIG_INVALID', `lengthFactor (l_LC) is ${String(lengthFactor)}; it must be a positive number (default 2).`);
  }
  const lengths: number[] = [];
  for (const parsed of predictions) {
    const length = validSolutionLength(parsed);
    if (length !== null) lengths.push(length);
  }
  if (lengths.length === 0) return { maxNewTokens, predictedLength: null, validCount: 0, capped: false };
  let sum = 0;
  for (const value of lengths) sum += value;
  const predictedLength = sum / lengths.length;
  const budget = Math.max(1, Math.min(maxNewTokens, ceilTolerant(lengthFactor * predictedLength)));
  return { maxNewTokens: budget, predictedLength, validCount: lengths.length, capped: budget < maxNewTokens };
}
