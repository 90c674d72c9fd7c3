import { MasaError } from '@masa-rl/core';
import type { MetaParseResult } from './meta-prediction.js';
import type { MetaRewardResult } from './meta-reward.js';
import { normalizeNotions } from './notions.js';
import type { SolutionStats } from './solution-stats.js';

/** One meta rollout of a question, with its parse and reward. */
export interface ExpertCandidate {
  parsed: Pick<MetaParseResult, 'ok' | 'prediction' | 'metaReasoning'>;
  reward: Pick<MetaRewardResult, 'score' | 'notionScore'>;
}

export interface SelectExpertMetaTrajectoryOptions {
  /** The M meta rollouts of one question. */
  candidates: readonly ExpertCandidate[];
  /** True statistics of the question's solution rollouts. */
  stats: SolutionStats;
  /**
   * Which reward picks the expert: the total meta reward (the cleaned
   * version, MASA-SPEC §9.2) or the notion score alone (the reference code).
   * @default 'total-reward'
   */
  rankBy?: 'total-reward' | 'notion-score';
  /** Only candidates with at least this notion score qualify (the reference uses 0.2). @default 0 */
  minNotionScore?: number;
  /**
   * `solution_length` of the target when no rollout was correct: the rounded
   * mean length of all rollouts, or skip the question.
   * @default 'mean-all'
   */
  whenNoneCorrect?: 'mean-all' | 'skip';
  /** pass_rate is a count out of this many. @default 8 */
  passRateScale?: number;
}

/** The chosen expert and its behaviour-cloning target. */
export interface ExpertSelection {
  /** Index in `candidates`. */
  index: number;
  /** `<meta>reasoning</meta>\n{"math_notion": [...], "pass_rate": k, "solution_length": n}`. */
  target: string;
  /** Integer pass count written into the target. */
  passRate: number;
  /** Integer length written into the target. */
  solutionLength: number;
  /** Notions written into the target (the candidate's own, normalised; empty when unusable). */
  notions: string[];
}

/** Result of {@link selectExpertMetaTrajectory}. */
export type ExpertSelectionResult =
  | { selected: ExpertSelection }
  | { selected: null; reason: 'no-parsed-candidate' | 'below-notion-threshold' | 'no-correct-rollout' };

/** Round half to even, like Python's `round()`. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const difference = value - floor;
  if (difference > 0.5) return floor + 1;
  if (difference < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The true pass count in the prompt's format: `round(scale · p)` (half to
 * even), except that it is 0 or `scale` only when the rollouts really were
 * all wrong or all right — so that an imitated 0/8 or 8/8 always means "zero
 * variance", the event predictive gating acts on.
 */
export function truePassCount(stats: SolutionStats, scale = 8): number {
  if (stats.correctCount === 0) return 0;
  if (stats.correctCount === stats.count) return scale;
  const rounded = roundHalfEven((scale * stats.correctCount) / stats.count);
  return Math.min(scale - 1, Math.max(1, rounded));
}

/** Python `json.dumps` layout (`", "` and `": "` separators), keys in the prompt's order. */
function metaJson(notions: readonly string[], passRate: number, solutionLength: number): string {
  const list = `[${notions.map((notion) => JSON.stringify(notion)).join(', ')}]`;
  return `{"math_notion": ${list}, "pass_rate": ${passRate}, "solution_length": ${solutionLength}}`;
}

/**
 * Expert meta-trajectory selection for behaviour cloning (MASA-SPEC §9.2,
 * cleaned version): among the question's meta rollouts that parsed, pick the
 * one with the highest total meta reward (or notion score; first wins ties)
 * among those meeting `minNotionScore`, and rewrite its JSON with the true
 * statistics in the prompt's own format: integer `pass_rate` (see
 * {@link truePassCount}) and integer `solution_length` = the rounded mean
 * correct length.
 *
 * @throws MasaError `CONFIG_INVALID` for a bad threshold or scale.
 */
export function selectExpertMetaTrajectory(options: SelectExpertMetaTrajectoryOptions): ExpertSelectionResult {
  const { candidates, stats, rankBy = 'total-reward', minNotionScore = 0, whenNoneCorrect = 'mean-all', passRateScale = 8 } = options;
  if (!Array.isArray(candidates)) {
    throw new MasaError('ARGUMENT_INVALID', 'selectExpertMetaTrajectory: `candidates` must list the meta rollouts of one question.');
  }
  if (!(Number.isFinite(minNotionScore) && minNotionScore >= 0 && minNotionScore <= 1)) {
    throw new MasaError('CONFIG_INVALID', `minNotionScore is ${String(minNotionScore)}; it must be in [0, 1] (the reference uses 0.2).`);
  }
  if (!Number.isInteger(passRateScale) || passRateScale < 1) {
    throw new MasaError('CONFIG_INVALID', `passRateScale is ${String(passRateScale)}; it must be a positive integer (default 8).`);
  }
  const parsed = candidates.map((candidate, index) => ({ candidate, index })).filter(({ candidate }) => candidate.parsed.ok);
  if (parsed.length === 0) return { selected: null, reason: 'no-parsed-candidate' };
  const eligible = parsed.filter(({ candidate }) => candidate.reward.notionScore >= minNotionScore);
  if (eligible.length === 0) return { selected: null, reason: 'below-notion-threshold' };
  const rank = (candidate: ExpertCandidate): number =>
    rankBy === 'notion-score' ? candidate.reward.notionScore : candidate.reward.score;
  let best = eligible[0];
  for (const entry of eligible) if (best === undefined || rank(entry.candidate) > rank(best.candidate)) best = entry;
  if (best === undefined) return { selected: null, reason: 'no-parsed-candidate' };

  let meanLength = stats.meanCorrectLength;
  if (meanLength === null) {
    if (whenNoneCorrect === 'skip') return { selected: null, reason: 'no-correct-rollout' };
    meanLength = stats.meanLength;
  }
  const solutionLength = roundHalfEven(meanLength);
  const passRate = truePassCount(stats, passRateScale);
  const list = normalizeNotions(best.candidate.parsed.prediction.mathNotion);
  const notions = list.ok ? list.notions : [];
  const target = `<meta>${best.candidate.parsed.metaReasoning}</meta>\n${metaJson(notions, passRate, solutionLength)}`;
  return { selected: { index: best.index, target, passRate, solutionLength, notions } };
}

/** Collects behaviour-cloning examples and hands them out in batches of a fixed size. */
export interface ExpertBuffer<T> {
  /** Examples per batch (S). */
  readonly batchSize: number;
  /** Examples waiting. */
  readonly size: number;
  /** Adds examples at the end. */
  add(items: readonly T[]): void;
  /** The first `batchSize` examples, removed from the buffer, once that many are waiting; else `null`. The rest carries over. */
  takeBatch(): T[] | null;
  /** A copy of the waiting examples (for checkpoints). */
  pending(): T[];
  /** Drops everything (the reference clears the buffer at each epoch start). */
  clear(): void;
}

export interface CreateExpertBufferOptions<T> {
  /** S: examples per behaviour-cloning batch. */
  batchSize: number;
  /** Examples restored from a checkpoint. @default [] */
  initial?: readonly T[];
}

/**
 * A buffer of expert examples that yields one batch of exactly `batchSize`
 * once it holds that many, keeping the remainder for later (MASA-SPEC §9.2).
 *
 * @throws MasaError `CONFIG_INVALID` when `batchSize` is not a positive integer.
 */
export function createExpertBuffer<T>(options: CreateExpertBufferOptions<T>): ExpertBuffer<T> {
  const { batchSize, initial = [] } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new MasaError('CONFIG_INVALID', `batchSize is ${String(batchSize)}; the expert buffer needs a positive integer batch size S.`);
  }
  let items: T[] = [...initial];
  return {
    batchSize,
    get size() {
      return items.length;
    },
    add(more) {
      for (const item of more) items.push(item);
    },
    takeBatch() {
      if (items.length < batchSize) return null;
      const batch = items.slice(0, batchSize);
      items = items.slice(batchSize);
      return batch;
    },
    pending() {
      return [...items];
    },
    clear() {
      items = [];
    },
  };
}
