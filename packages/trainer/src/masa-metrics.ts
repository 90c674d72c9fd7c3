/**
 * Per-step meta-awareness metrics of the MASA algorithms (issue 7): meta
 * parse rate and sub-scores, pass-rate calibration with a reliability table,
 * the standardised length error of correct and incorrect rollouts, gating
 * precision / recall / F1 against the questions that really had zero
 * variance, the fraction gated, tokens saved by gating and by the cutoff.
 * Built on `@masa-rl/meta-gating`'s metric helpers; every value is a plain
 * number so it fits `metrics.jsonl`, TensorBoard and W&B. A value that is
 * undefined this step (no data, no spread) is left out rather than written as
 * `null` or `NaN`.
 */
import type { FinishReason } from '@masa-rl/core';
import {
  computeCutoffBudget,
  decidePredictiveGate,
  gatingQuality,
  passRateCalibration,
  standardizedLengthError,
  summarizeMetaRewards,
  tokenSavings,
  validPassCount,
  validSolutionLength,
  type GatingOutcome,
  type MetaParseResult,
  type MetaRewardResult,
} from '@masa-rl/meta-gating';

/** One solution rollout as the metrics see it. */
export interface MetricsRollout {
  /** Reward `acc > 0.5`. */
  correct: boolean;
  /** Response tokens generated. */
  tokens: number;
  finishReason: FinishReason;
}

/** One question of a MASA step. */
export interface MetricsQuestion {
  /** Parsed meta predictions (empty when the question had no meta rollouts). */
  parsed: readonly MetaParseResult[];
  /** Meta rewards, one per prediction; absent when the question was not solved (gated). */
  rewards?: readonly MetaRewardResult[];
  /** Solution rollouts used for training; absent when the question was gated. */
  solution?: readonly MetricsRollout[];
  /** Solution rollouts of a gated question solved for the gating audit only (never trained on). */
  audit?: readonly MetricsRollout[];
  /** Whether predictive gating skipped the question (live gating). */
  gated: boolean;
}

/** Gate settings for shadow gating (what the gate would have done). */
export interface MetricsGateSettings {
  stdThreshold: number;
  tolerance: number;
  minValid: number;
}

export interface ComputeMasaStepMetricsOptions {
  questions: readonly MetricsQuestion[];
  /**
   * `live`: gating acted this step (masa-efficient after calibration); gated
   * questions' truth comes from the audit sample only. `shadow`: every
   * question was solved, and the gate's decision is scored as if it had fired
   * (exact precision and recall).
   */
  gatingMode: 'live' | 'shadow';
  gate: MetricsGateSettings;
  /** G, solution rollouts per question. */
  rolloutsPerQuestion: number;
  /** The response cap Lr (data.max_response_length) a cut rollout would have had. */
  maxResponseTokens: number;
  /** Response tokens of every meta rollout generated this step. */
  metaTokens: number;
  /** Cutoff budgets of the gated questions (fallback estimate of their rollout length when nothing was solved). @default [] */
  gatedBudgets?: readonly number[];
  /** Pass-rate scale of the predictions. @default 8 */
  passRateScale?: number;
  /**
   * l_LC. In `shadow` mode every rollout ran to its end, so the cutoff a
   * `masa-efficient` run would have applied is scored exactly: `cutoff/shadow/*`
   * counts the rollouts longer than their question's budget and the tokens
   * beyond it, apart for correct and incorrect rollouts. @default 2
   */
  cutoffFactor?: number;
}

/** Tighter l_LC values the shadow cutoff is also scored at (those below the configured factor). */
export const SHADOW_CUTOFF_SWEEP: readonly number[] = Object.freeze([1, 1.25, 1.5]);

const meanOf = (values: readonly number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
const sumOf = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Did a question's G solution rollouts all agree (all right or all wrong)? `null` without rollouts. */
export function hasZeroVariance(rollouts: readonly MetricsRollout[] | undefined): boolean | null {
  if (rollouts === undefined || rollouts.length === 0) return null;
  const right = rollouts.filter((rollout) => rollout.correct).length;
  return right === 0 || right === rollouts.length;
}

/**
 * The `meta/*`, `gating/*` and `tokens/*` metrics of one MASA step (names in
 * the package README). Pure: same input, same numbers.
 */
export function computeMasaStepMetrics(options: ComputeMasaStepMetricsOptions): Record<string, number> {
  const { questions, gatingMode, gate, rolloutsPerQuestion, maxResponseTokens, metaTokens, gatedBudgets = [], passRateScale = 8, cutoffFactor = 2 } = options;
  const metrics: Record<string, number> = {};
  const put = (key: string, value: number | null): void => {
    if (value !== null && Number.isFinite(value)) metrics[key] = value;
  };

  // ---- meta parse rate (every meta rollout generated) and sub-scores (every scored one) ----
  const allParsed = questions.flatMap((question) => question.parsed);
  put('meta/parse_rate', meanOf(allParsed.map((parsed) => (parsed.ok ? 1 : 0))));
  const scored = questions.flatMap((question) =>
    question.rewards === undefined ? [] : question.parsed.map((parsed, index) => ({ ok: parsed.ok, reward: question.rewards?.[index] })),
  );
  const summary = summarizeMetaRewards({
    records: scored.filter((record): record is { ok: boolean; reward: MetaRewardResult } => record.reward !== undefined),
  });
  put('meta/score/mean', summary.meanScore);
  put('meta/score/notion', summary.meanNotionScore);
  put('meta/score/pass_rate', summary.meanPassRateScore);
  put('meta/score/length', summary.meanLengthScore);

  // ---- calibration and length error (questions solved for training) ----
  const solved = questions.filter((question) => question.solution !== undefined && question.solution.length > 0);
  const pairs = solved.flatMap((question) => {
    const rollouts = question.solution ?? [];
    const truePassRate = rollouts.filter((rollout) => rollout.correct).length / rollouts.length;
    return question.parsed.map((parsed) => ({ predictedPassCount: validPassCount(parsed, passRateScale), truePassRate }));
  });
  const calibration = passRateCalibration({ pairs, passRateScale });
  put('meta/calibration/count', calibration.count);
  put('meta/calibration/mae', calibration.maePassRate);
  put('meta/calibration/bias', calibration.bias);
  put('meta/calibration/pearson', calibration.pearson);
  for (const bin of calibration.reliability) {
    put(`meta/calibration/reliability/${bin.predictedPassCount}/count`, bin.count);
    put(`meta/calibration/reliability/${bin.predictedPassCount}/true_pass_rate`, bin.meanTruePassRate);
  }
  const lengthError = standardizedLengthError({
    questions: solved.map((question) => ({
      predictedLengths: question.parsed.map(validSolutionLength).filter((value): value is number => value !== null),
      correctLengths: (question.solution ?? []).filter((rollout) => rollout.correct).map((rollout) => rollout.tokens),
      incorrectLengths: (question.solution ?? []).filter((rollout) => !rollout.correct).map((rollout) => rollout.tokens),
    })),
  });
  put('meta/length_error/correct', lengthError.correct.mean);
  put('meta/length_error/incorrect', lengthError.incorrect.mean);

  // ---- gating quality ----
  const outcomes: GatingOutcome[] = questions.map((question) => {
    if (gatingMode === 'live') {
      return question.gated
        ? { gated: true, zeroVariance: hasZeroVariance(question.audit) }
        : { gated: false, zeroVariance: hasZeroVariance(question.solution) };
    }
    const decision = decidePredictiveGate({ predictions: question.parsed, stdThreshold: gate.stdThreshold, tolerance: gate.tolerance, minValid: gate.minValid });
    return { gated: decision.gate, zeroVariance: hasZeroVariance(question.solution) };
  });
  const quality = gatingQuality({ questions: outcomes });
  const gatedCount = outcomes.filter((outcome) => outcome.gated).length;
  metrics['gating/live'] = gatingMode === 'live' ? 1 : 0;
  metrics['gating/questions'] = questions.length;
  metrics['gating/gated'] = gatedCount;
  metrics['gating/fraction'] = questions.length === 0 ? 0 : gatedCount / questions.length;
  metrics['gating/audited'] = questions.filter((question) => question.gated && question.audit !== undefined).length;
  metrics['gating/true_positives'] = quality.truePositives;
  metrics['gating/false_positives'] = quality.falsePositives;
  metrics['gating/false_negatives'] = quality.falseNegatives;
  metrics['gating/true_negatives'] = quality.trueNegatives;
  put('gating/precision', quality.precision);
  put('gating/recall', quality.recall);
  put('gating/f1', quality.f1);

  // ---- tokens ----
  const trained = solved.flatMap((question) => question.solution ?? []);
  const audits = questions.flatMap((question) => question.audit ?? []);
  const solutionTokens = sumOf(trained.map((rollout) => rollout.tokens));
  const auditTokens = sumOf(audits.map((rollout) => rollout.tokens));
  const unauditedGated = gatingMode === 'live' ? questions.filter((question) => question.gated && question.audit === undefined).length : 0;
  const meanSolutionTokens = meanOf([...trained, ...audits].map((rollout) => rollout.tokens)) ?? meanOf(gatedBudgets) ?? 0;
  const savings = tokenSavings({
    gatedQuestions: unauditedGated,
    rolloutsPerQuestion,
    meanSolutionTokens,
    cutoffRollouts: trained.map((rollout) => ({ generatedTokens: rollout.tokens, finishReason: rollout.finishReason, uncappedMaxNewTokens: maxResponseTokens })),
  });
  metrics['tokens/solution'] = solutionTokens;
  metrics['tokens/meta'] = metaTokens;
  metrics['tokens/audit'] = auditTokens;
  metrics['tokens/rollout'] = solutionTokens + metaTokens + auditTokens;
  metrics['tokens/saved_by_gating'] = savings.gatingTokensSaved;
  metrics['tokens/saved_by_cutoff'] = savings.cutoffTokensSavedUpperBound;
  metrics['tokens/saved'] = savings.gatingTokensSaved + savings.cutoffTokensSavedUpperBound;
  metrics['tokens/cutoff_rollouts'] = savings.cutoffCount;

  // ---- shadow cutoff: what l_LC would have cut from rollouts that ran to their end ----
  if (gatingMode === 'shadow') {
    // Only the questions masa-efficient would have solved: those the gate would have skipped get no cutoff.
    const wouldSolve = questions.filter((question, index) => question.solution !== undefined && question.solution.length > 0 && outcomes[index]?.gated !== true);
    const shadowCutoff = (factor: number) => {
      const shadow = { correct: { rollouts: 0, cut: 0, tokens: 0 }, incorrect: { rollouts: 0, cut: 0, tokens: 0 } };
      for (const question of wouldSolve) {
        const budget = computeCutoffBudget({ predictions: question.parsed, maxNewTokens: maxResponseTokens, lengthFactor: factor }).maxNewTokens;
        for (const rollout of question.solution ?? []) {
          const bucket = rollout.correct ? shadow.correct : shadow.incorrect;
          bucket.rollouts += 1;
          if (rollout.tokens > budget) {
            bucket.cut += 1;
            bucket.tokens += rollout.tokens - budget;
          }
        }
      }
      return shadow;
    };
    const configured = shadowCutoff(cutoffFactor);
    for (const outcome of ['correct', 'incorrect'] as const) {
      metrics[`cutoff/shadow/rollouts_${outcome}`] = configured[outcome].rollouts;
      metrics[`cutoff/shadow/cut_${outcome}`] = configured[outcome].cut;
      metrics[`cutoff/shadow/tokens_${outcome}`] = configured[outcome].tokens;
    }
    // The same at tighter factors, to see where a cutoff starts to bind and on which rollouts.
    for (const factor of SHADOW_CUTOFF_SWEEP) {
      if (factor >= cutoffFactor) continue;
      const swept = shadowCutoff(factor);
      for (const outcome of ['correct', 'incorrect'] as const) {
        metrics[`cutoff/shadow/l=${factor}/cut_${outcome}`] = swept[outcome].cut;
        metrics[`cutoff/shadow/l=${factor}/tokens_${outcome}`] = swept[outcome].tokens;
      }
    }
  }
  return metrics;
}
