import { MasaError } from '@masa-rl/core';
import type { MetaParseResult } from './meta-prediction.js';
import { normalizeNotions, singularize } from './notions.js';
import type { SolutionStats } from './solution-stats.js';

/**
 * `parity` reproduces the reference reward: strict length bounds and a
 * case-sensitive notion filter against the whole decoded meta prompt.
 * `default` uses inclusive length bounds and a case-insensitive filter against
 * the problem text.
 */
export type MetaRewardMode = 'default' | 'parity';

/** The parts of a parse result the reward reads. */
export type ParsedMetaPrediction = Pick<MetaParseResult, 'prediction' | 'intKeys'>;

export interface ComputeMetaRewardOptions {
  /** The meta rollout's parsed prediction ({@link parseMetaPrediction}). */
  parsed: ParsedMetaPrediction;
  /** True statistics of the same question's solution rollouts ({@link computeSolutionStats}). */
  stats: SolutionStats;
  /**
   * Predicted notions that occur in this text are dropped before scoring.
   * Parity: the whole decoded meta prompt (system line, instructions and
   * problem), as the reference does. Default: the problem text only.
   */
  notionExcludeText: string;
  /** @default 'default' */
  mode?: MetaRewardMode;
  /**
   * Length score test against the min/max correct length. `strict`
   * (`min < l < max`, the reference code) gives 0 whenever exactly one
   * rollout is correct or all correct lengths are equal; `inclusive`
   * (`min ≤ l ≤ max`, the v2 paper's equation) does not.
   * @default 'strict' in parity mode, else 'inclusive'
   */
  lengthBounds?: 'strict' | 'inclusive';
  /**
   * Compare notions with `notionExcludeText` ignoring case.
   * @default false in parity mode, else true
   */
  notionExcludeCaseInsensitive?: boolean;
  /** Base b of the pass-rate score b^|p − pass_rate/scale|. @default 0.01 */
  passRateBase?: number;
  /** The predicted pass_rate is a count out of this many attempts. @default 8 */
  passRateScale?: number;
}

/** How often one scored notion appears in correct minus incorrect responses. */
export interface NotionCount {
  notion: string;
  /** #correct responses containing it − #incorrect responses containing it. */
  count: number;
}

/** The meta reward of one meta rollout and its three sub-scores, each in [0, 1]. */
export interface MetaRewardResult {
  /** (notionScore + passRateScore + lengthScore) / 3. */
  score: number;
  notionScore: number;
  passRateScore: number;
  lengthScore: number;
  /** The notions that were scored (after singularising, filtering and de-duplicating). */
  notions: NotionCount[];
  /** Why the notion value could not be used (the notion score is then 0). */
  notionError?: string;
}

function checkOptions(options: ComputeMetaRewardOptions): void {
  const { parsed, stats, notionExcludeText, passRateBase, passRateScale } = options;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.prediction !== 'object' || !Array.isArray(parsed.intKeys)) {
    throw new MasaError('ARGUMENT_INVALID', 'computeMetaReward: `parsed` must be the result of parseMetaPrediction(text) for this meta rollout.');
  }
  if (typeof stats !== 'object' || stats === null || !Array.isArray(stats.rollouts) || stats.count < 1) {
    throw new MasaError('ARGUMENT_INVALID', 'computeMetaReward: `stats` must come from computeSolutionStats({ rollouts }) over the question\'s solution rollouts.');
  }
  if (typeof notionExcludeText !== 'string') {
    throw new MasaError(
      'ARGUMENT_INVALID',
      'computeMetaReward: pass `notionExcludeText` (the problem text, or the decoded meta prompt in parity mode).',
    );
  }
  if (passRateBase !== undefined && !(Number.isFinite(passRateBase) && passRateBase > 0 && passRateBase <= 1)) {
    throw new MasaError('CONFIG_INVALID', `passRateBase is ${String(passRateBase)}; it must be in (0, 1] (the paper uses 0.01).`);
  }
  if (passRateScale !== undefined && !(Number.isFinite(passRateScale) && passRateScale > 0)) {
    throw new MasaError('CONFIG_INVALID', `passRateScale is ${String(passRateScale)}; it must be a positive number (the prompt asks for a count out of 8).`);
  }
}

/**
 * The MASA meta reward (MASA-SPEC §6.3): the mean of a notion score, a
 * pass-rate score and a length score, each in [0, 1].
 *
 * - pass rate: `base^|p − pass_rate/scale|` when `pass_rate` is an integer
 *   literal (or a boolean), else 0;
 * - length: 1 when `solution_length` is an integer literal lying between the
 *   shortest and longest correct rollout (bounds per `lengthBounds`), else 0
 *   (0 when no rollout is correct);
 * - notions: normalised to a list ({@link normalizeNotions}), singularised,
 *   minus those found in `notionExcludeText`, de-duplicated; the share of
 *   notions that appear in more correct than incorrect responses
 *   (case-sensitive substring test); 0 when none remain.
 *
 * A malformed prediction scores 0 without throwing.
 *
 * @throws MasaError `ARGUMENT_INVALID`/`CONFIG_INVALID` for bad options, never for bad model output.
 */
export function computeMetaReward(options: ComputeMetaRewardOptions): MetaRewardResult {
  checkOptions(options);
  const { parsed, stats, notionExcludeText, mode = 'default', passRateBase = 0.01, passRateScale = 8 } = options;
  const parity = mode === 'parity';
  const lengthBounds = options.lengthBounds ?? (parity ? 'strict' : 'inclusive');
  const caseInsensitive = options.notionExcludeCaseInsensitive ?? !parity;
  const { prediction, intKeys } = parsed;

  let passRateScore = 0;
  if (intKeys.includes('pass_rate') && typeof prediction.passRate === 'number') {
    passRateScore = Math.pow(passRateBase, Math.abs(stats.passRate - prediction.passRate / passRateScale));
    if (!Number.isFinite(passRateScore)) passRateScore = 0;
  }

  let lengthScore = 0;
  const predictedLength = prediction.solutionLength;
  if (intKeys.includes('solution_length') && typeof predictedLength === 'number' && stats.minCorrectLength !== null && stats.maxCorrectLength !== null) {
    const inside =
      lengthBounds === 'strict'
        ? stats.minCorrectLength < predictedLength && predictedLength < stats.maxCorrectLength
        : stats.minCorrectLength <= predictedLength && predictedLength <= stats.maxCorrectLength;
    lengthScore = inside ? 1 : 0;
  }

  let notionScore = 0;
  let notions: NotionCount[] = [];
  let notionError: string | undefined;
  if (Object.hasOwn(prediction.fields, 'math_notion')) {
    const list = normalizeNotions(prediction.mathNotion);
    if (list.ok) {
      notions = scoreNotions(list.notions, stats, notionExcludeText, caseInsensitive);
      if (notions.length > 0) notionScore = notions.filter((entry) => entry.count > 0).length / notions.length;
    } else {
      notionError = list.error;
    }
  }

  const result: MetaRewardResult = {
    score: (notionScore + passRateScore + lengthScore) / 3,
    notionScore,
    passRateScore,
    lengthScore,
    notions,
  };
  if (notionError !== undefined) result.notionError = notionError;
  return result;
}

function scoreNotions(raw: readonly string[], stats: SolutionStats, excludeText: string, caseInsensitive: boolean): NotionCount[] {
  const haystack = caseInsensitive ? excludeText.toLowerCase() : excludeText;
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const notion of raw) {
    const singular = singularize(notion);
    if (haystack.includes(caseInsensitive ? singular.toLowerCase() : singular)) continue;
    if (seen.has(singular)) continue;
    seen.add(singular);
    kept.push(singular);
  }
  return kept.map((notion) => {
    let count = 0;
    for (const rollout of stats.rollouts) {
      if (rollout.text.includes(notion)) count += rollout.score === 1 ? 1 : -1;
    }
    return { notion, count };
  });
}
