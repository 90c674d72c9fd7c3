/**
 * Per-step meta-awareness diagnostics the dashboard plots and `metrics.jsonl`
 * does not hold: pass-rate calibration (reliability bins), length-prediction
 * error, gating precision/recall, tokens saved, and a few whole examples
 * (problem, meta predictions, solutions with correctness). Computed from one
 * step's collected rollout groups with `@masa-rl/meta-gating`'s functions, and
 * written by the app to `meta-stats.jsonl` in the run folder.
 */
import {
  decidePredictiveGate,
  gatingQuality,
  parseMetaPrediction,
  passRateCalibration,
  standardizedLengthError,
  tokenSavings,
  validPassCount,
  validSolutionLength,
  type GatingOutcome,
  type MetaParseResult,
  type PassRatePair,
} from '@masa-rl/meta-gating';
import { META_UID_SUFFIX, type CollectedStep, type RolloutGroup, type TrainerConfig } from '@masa-rl/trainer';

/** The file the app writes next to `metrics.jsonl`. */
export const META_STATS_FILE = 'meta-stats.jsonl';

/** One meta rollout in an example. */
export interface ExampleMeta {
  text: string;
  ok: boolean;
  /** Valid predicted pass count (0..8) or `null`. */
  passCount: number | null;
  /** Valid predicted solution length or `null`. */
  solutionLength: number | null;
}

/** One solution rollout in an example. */
export interface ExampleSolution {
  text: string;
  correct: boolean;
  tokens: number;
  finishReason: string;
}

/** A whole question of one step, for the dashboard's table. */
export interface StepExample {
  uid: string;
  problemId: string;
  question: string;
  answer: string;
  meta: ExampleMeta[];
  solutions: ExampleSolution[];
}

/** One line of `meta-stats.jsonl`. `null` fields had no data this step. */
export interface MetaStatsLine {
  step: number;
  /** Share of solution rollouts that are correct (reward `acc > 0.5`). */
  accuracy: number | null;
  solutionRollouts: number;
  /** Questions with both solution and meta rollouts this step. */
  questions: number;
  calibration: {
    count: number;
    invalid: number;
    /** Mean |p̂ − p| in rate units. */
    mae: number | null;
    bias: number | null;
    pearson: number | null;
    /** Per predicted pass count 0..8: how many predictions, and the mean true pass rate. */
    bins: Array<{ count: number; meanTrue: number | null }>;
  } | null;
  length: {
    /** Mean over questions of (mean correct length − mean predicted length) / std(predicted). */
    standardizedCorrect: number | null;
    standardizedIncorrect: number | null;
    /** Mean over questions of |mean predicted length − mean correct length|, in tokens. */
    meanAbsErrorTokens: number | null;
  } | null;
  gating: {
    /** `shadow`: every question was solved and the gate's decision is evaluated as if it had fired; `live`: gated questions were skipped. */
    mode: 'shadow' | 'live';
    gated: number;
    questions: number;
    precision: number | null;
    recall: number | null;
    f1: number | null;
  } | null;
  tokens: {
    /** Response tokens of this step's solution rollouts. */
    solution: number;
    /** Estimated tokens not generated because questions were gated. */
    gatingSaved: number;
    /** Upper bound on tokens the length cutoff saved. */
    cutoffSaved: number;
    /** gatingSaved + cutoffSaved. */
    saved: number;
  };
  examples: StepExample[];
}

export interface ComputeMetaStatsOptions {
  step: number;
  collected: CollectedStep;
  config: TrainerConfig;
  /** Whole questions kept as examples. @default 2 */
  examples?: number;
  /** Example texts are cut to this many characters. @default 600 */
  maxTextChars?: number;
}

const mean = (values: readonly number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
const correct = (record: RolloutGroup['records'][number]): boolean => record.reward.acc > 0.5;
const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}…`);

/** Computes the diagnostics of one collected step. */
export function computeMetaStats(options: ComputeMetaStatsOptions): MetaStatsLine {
  const { step, collected, config, examples = 2, maxTextChars = 600 } = options;
  const solutionGroups = collected.groups.filter((group) => group.branch === 'solution');
  const metaByUid = new Map(
    collected.groups.filter((group) => group.branch === 'meta').map((group) => [group.uid.endsWith(META_UID_SUFFIX) ? group.uid.slice(0, -META_UID_SUFFIX.length) : group.uid, group]),
  );
  const solutionRecords = solutionGroups.flatMap((group) => group.records);
  const accuracy = mean(solutionRecords.map((record) => (correct(record) ? 1 : 0)));
  const parseMode = config.masa.parity ? 'parity' : 'robust';
  const masa = config.masa;
  const efficient = (collected.metrics['masa/phase'] ?? 0) === 1;

  const pairs: PassRatePair[] = [];
  const lengthQuestions: Array<{ predictedLengths: number[]; correctLengths: number[]; incorrectLengths: number[] }> = [];
  const absLengthErrors: number[] = [];
  const outcomes: GatingOutcome[] = [];
  const parsedByUid = new Map<string, MetaParseResult[]>();
  let questions = 0;
  for (const group of solutionGroups) {
    const meta = metaByUid.get(group.uid);
    if (meta === undefined || group.records.length === 0) continue;
    questions += 1;
    const parsed = meta.records.map((record) => parseMetaPrediction(record.text, { mode: parseMode }));
    parsedByUid.set(group.uid, parsed);
    const truePassRate = group.records.filter(correct).length / group.records.length;
    for (const prediction of parsed) pairs.push({ predictedPassCount: validPassCount(prediction), truePassRate });
    const predictedLengths = parsed.map(validSolutionLength).filter((value): value is number => value !== null);
    const correctLengths = group.records.filter(correct).map((record) => record.responseTokenIds.length);
    const incorrectLengths = group.records.filter((record) => !correct(record)).map((record) => record.responseTokenIds.length);
    lengthQuestions.push({ predictedLengths, correctLengths, incorrectLengths });
    const predictedMean = mean(predictedLengths);
    const correctMean = mean(correctLengths);
    if (predictedMean !== null && correctMean !== null) absLengthErrors.push(Math.abs(predictedMean - correctMean));
    const zeroVariance = truePassRate === 0 || truePassRate === 1;
    if (efficient) {
      // Live gating: this question was not gated (it has solutions).
      outcomes.push({ gated: false, zeroVariance });
    } else {
      // Shadow gating: would the gate have skipped this question?
      const decision = decidePredictiveGate({ predictions: parsed, stdThreshold: masa.gating_std, tolerance: masa.gating_tolerance, minValid: masa.gating_min_valid });
      outcomes.push({ gated: decision.gate, zeroVariance });
    }
  }
  const gatedQuestions = efficient ? (collected.metrics['masa/gated_questions'] ?? 0) : 0;
  for (let i = 0; i < gatedQuestions; i++) outcomes.push({ gated: true, zeroVariance: null });

  let calibration: MetaStatsLine['calibration'] = null;
  if (pairs.length > 0) {
    const result = passRateCalibration({ pairs });
    calibration = {
      count: result.count,
      invalid: result.invalidCount,
      mae: result.maePassRate,
      bias: result.bias,
      pearson: result.pearson,
      bins: result.reliability.map((bin) => ({ count: bin.count, meanTrue: bin.meanTruePassRate })),
    };
  }
  let length: MetaStatsLine['length'] = null;
  if (lengthQuestions.length > 0) {
    const errors = standardizedLengthError({ questions: lengthQuestions });
    length = { standardizedCorrect: errors.correct.mean, standardizedIncorrect: errors.incorrect.mean, meanAbsErrorTokens: mean(absLengthErrors) };
  }
  let gating: MetaStatsLine['gating'] = null;
  if (outcomes.length > 0) {
    const quality = gatingQuality({ questions: outcomes });
    gating = {
      mode: efficient ? 'live' : 'shadow',
      gated: quality.truePositives + quality.falsePositives + quality.unauditedGated,
      questions: outcomes.length,
      precision: quality.precision,
      recall: quality.recall,
      f1: quality.f1,
    };
  }

  const solutionTokens = solutionRecords.reduce((sum, record) => sum + record.responseTokenIds.length, 0);
  const savings = tokenSavings({
    gatedQuestions,
    rolloutsPerQuestion: config.actor_rollout_ref.rollout.n,
    meanSolutionTokens: mean(solutionRecords.map((record) => record.responseTokenIds.length)) ?? 0,
    cutoffRollouts: solutionRecords.map((record) => ({
      generatedTokens: record.responseTokenIds.length,
      finishReason: record.finishReason,
      uncappedMaxNewTokens: config.data.max_response_length,
    })),
  });

  const exampleLines: StepExample[] = solutionGroups.slice(0, examples).map((group) => {
    const meta = metaByUid.get(group.uid);
    const parsed = parsedByUid.get(group.uid) ?? [];
    return {
      uid: group.uid,
      problemId: group.problem.id,
      question: cut(group.problem.question, maxTextChars),
      answer: group.problem.answer,
      meta: (meta?.records ?? []).slice(0, 4).map((record, index) => {
        const prediction = parsed[index];
        return {
          text: cut(record.text, maxTextChars),
          ok: prediction?.ok ?? false,
          passCount: prediction === undefined ? null : validPassCount(prediction),
          solutionLength: prediction === undefined ? null : validSolutionLength(prediction),
        };
      }),
      solutions: group.records.map((record) => ({
        text: cut(record.text, maxTextChars),
        correct: correct(record),
        tokens: record.responseTokenIds.length,
        finishReason: record.finishReason,
      })),
    };
  });

  return {
    step,
    accuracy,
    solutionRollouts: solutionRecords.length,
    questions,
    calibration,
    length,
    gating,
    tokens: {
      solution: solutionTokens,
      gatingSaved: savings.gatingTokensSaved,
      cutoffSaved: savings.cutoffTokensSavedUpperBound,
      saved: savings.gatingTokensSaved + savings.cutoffTokensSavedUpperBound,
    },
    examples: exampleLines,
  };
}
