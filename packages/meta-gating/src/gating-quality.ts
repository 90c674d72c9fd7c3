import { MasaError, type FinishReason } from '@masa-rl/core';

/** One question's gating decision and what its solution rollouts really did. */
export interface GatingOutcome {
  gated: boolean;
  /**
   * Whether the question truly had zero variance (all G rollouts right or all
   * wrong). `null` when unknown: a gated question that was not audited (its
   * rollouts were skipped), or an ungated one whose rollouts were lost.
   */
  zeroVariance: boolean | null;
}

/** Gating decisions scored against the questions that truly had zero variance. */
export interface GatingQuality {
  /** Gated and truly zero-variance (among gated questions with a known outcome). */
  truePositives: number;
  /** Gated but truly mixed. */
  falsePositives: number;
  /** Not gated but truly zero-variance. */
  falseNegatives: number;
  /** Not gated and truly mixed. */
  trueNegatives: number;
  /** Gated questions whose outcome is unknown (not audited). */
  unauditedGated: number;
  /** Ungated questions whose outcome is unknown (excluded). */
  unknownUngated: number;
  /** Share of all questions that were gated. */
  gatedFraction: number | null;
  /** TP / (TP + FP) over gated questions with a known outcome (an audit sample estimates it). */
  precision: number | null;
  /**
   * Estimated TP / (estimated TP + FN), where estimated TP = precision × all
   * gated questions (exactly TP when every gated question is audited).
   */
  recall: number | null;
  /** Harmonic mean of precision and recall. */
  f1: number | null;
}

export interface GatingQualityOptions {
  questions: readonly GatingOutcome[];
}

/**
 * Precision, recall and F1 of predictive gating against the truly
 * zero-variance questions (the v2 paper reports 0.94 / 0.87 / 0.91). In
 * training, gated questions are skipped, so their truth is known only for an
 * audit sample solved anyway; precision is measured on that sample and
 * extrapolated to all gated questions for recall. On a held-out set where
 * every question is solved, the numbers are exact.
 */
export function gatingQuality(options: GatingQualityOptions): GatingQuality {
  const { questions } = options;
  if (!Array.isArray(questions)) {
    throw new MasaError('ARGUMENT_INVALID', 'gatingQuality: `questions` must list { gated, zeroVariance } per question.');
  }
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  let trueNegatives = 0;
  let unauditedGated = 0;
  let unknownUngated = 0;
  for (const { gated, zeroVariance } of questions) {
    if (zeroVariance === null) {
      if (gated) unauditedGated++;
      else unknownUngated++;
    } else if (gated) {
      if (zeroVariance) truePositives++;
      else falsePositives++;
    } else if (zeroVariance) {
      falseNegatives++;
    } else {
      trueNegatives++;
    }
  }
  const audited = truePositives + falsePositives;
  const gatedTotal = audited + unauditedGated;
  const precision = audited === 0 ? null : truePositives / audited;
  let recall: number | null = null;
  if (precision !== null) {
    const estimatedTruePositives = precision * gatedTotal;
    const denominator = estimatedTruePositives + falseNegatives;
    recall = denominator === 0 ? null : estimatedTruePositives / denominator;
  } else if (gatedTotal === 0 && falseNegatives > 0) {
    recall = 0;
  }
  let f1: number | null = null;
  if (precision !== null && recall !== null) f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    truePositives,
    falsePositives,
    falseNegatives,
    trueNegatives,
    unauditedGated,
    unknownUngated,
    gatedFraction: questions.length === 0 ? null : gatedTotal / questions.length,
    precision,
    recall,
    f1,
  };
}

/** One solution rollout generated under a cutoff budget. */
export interface CutoffRollout {
  /** Tokens it generated. */
  generatedTokens: number;
  finishReason: FinishReason;
  /** The global response cap (Lr) it would have had without the cutoff. */
  uncappedMaxNewTokens: number;
  /** Tokens it generated when re-run without the cutoff (an audit), if known. */
  uncappedTokens?: number;
}

/** Tokens saved by predictive gating and by the length cutoff. */
export interface TokenSavings {
  /** gatedQuestions × rolloutsPerQuestion × meanSolutionTokens. */
  gatingTokensSaved: number;
  /** Rollouts stopped by their cutoff budget. */
  cutoffCount: number;
  /** Σ over cut-off rollouts of (uncappedMaxNewTokens − generatedTokens): the most the cutoff can have saved. */
  cutoffTokensSavedUpperBound: number;
  /** Σ (uncappedTokens − generatedTokens) over rollouts with a known `uncappedTokens`; `null` if none is known. */
  cutoffTokensSavedMeasured: number | null;
}

export interface TokenSavingsOptions {
  /** Questions whose solution rollouts were skipped. */
  gatedQuestions: number;
  /** G, solution rollouts per question. */
  rolloutsPerQuestion: number;
  /** Estimated tokens of one solution rollout (e.g. the mean over recent ungated rollouts). */
  meanSolutionTokens: number;
  /** Solution rollouts generated under a cutoff budget. @default [] */
  cutoffRollouts?: readonly CutoffRollout[];
}

function checkCount(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new MasaError('ARGUMENT_INVALID', `${name} is ${String(value)}; it must be a finite number ≥ 0.`);
  }
}

/** Tokens saved by gating (an estimate from counts) and by the cutoff (an upper bound, and a measurement where audited). */
export function tokenSavings(options: TokenSavingsOptions): TokenSavings {
  const { gatedQuestions, rolloutsPerQuestion, meanSolutionTokens, cutoffRollouts = [] } = options;
  checkCount('gatedQuestions', gatedQuestions);
  checkCount('rolloutsPerQuestion', rolloutsPerQuestion);
  checkCount('meanSolutionTokens', meanSolutionTokens);
  let cutoffCount = 0;
  let upperBound = 0;
  let measured: number | null = null;
  cutoffRollouts.forEach((rollout, index) => {
    checkCount(`cutoffRollouts[${index}].generatedTokens`, rollout.generatedTokens);
    checkCount(`cutoffRollouts[${index}].uncappedMaxNewTokens`, rollout.uncappedMaxNewTokens);
    if (rollout.finishReason === 'cutoff') {
      cutoffCount++;
      upperBound += Math.max(0, rollout.uncappedMaxNewTokens - rollout.generatedTokens);
    }
    if (rollout.uncappedTokens !== undefined) {
      checkCount(`cutoffRollouts[${index}].uncappedTokens`, rollout.uncappedTokens);
      measured = (measured ?? 0) + Math.max(0, rollout.uncappedTokens - rollout.generatedTokens);
    }
  });
  return {
    gatingTokensSaved: gatedQuestions * rolloutsPerQuestion * meanSolutionTokens,
    cutoffCount,
    cutoffTokensSavedUpperBound: upperBound,
    cutoffTokensSavedMeasured: measured,
  };
}
