/**
 * Held-out meta calibration: the meta predictions sampled for the validation
 * problems, scored against the true pass counts of the validation solution
 * samples. Pure: the trainer samples, this only counts.
 */
import type { Problem } from '@masa-rl/core';
import {
  computeMetaReward,
  computeSolutionStats,
  parseMetaPrediction,
  passRateCalibration,
  validPassCount,
} from '@masa-rl/meta-gating';
import type { TrainerConfig } from './config-schema.js';
import type { PromptInput } from './rollouts.js';

/** One validation problem: its solution samples and the texts of its meta samples. */
export interface ValidationMetaQuestion {
  problem: Problem;
  /** The meta prompt (its text is the notion filter's exclusion text in parity mode). */
  metaPrompt: PromptInput;
  solutions: ReadonlyArray<{ text: string; correct: boolean; tokens: number }>;
  metaTexts: readonly string[];
}

export interface ValidationMetaOptions {
  config: TrainerConfig;
  questions: readonly ValidationMetaQuestion[];
  /** Pass counts are predicted out of this many. @default 8 */
  passRateScale?: number;
}

const meanOf = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

function promptText(prompt: PromptInput): string {
  return 'messages' in prompt ? prompt.messages.map((message) => `${message.role}\n${message.content}`).join('\n') : '';
}

/**
 * Metrics (keys without the `val-meta/<dataset>/` prefix):
 * - `parse_rate`: share of meta samples that parsed as a JSON object;
 * - `pass_rate_mae`: mean |predicted count − scale × true rate| over the
 *   samples with a valid pass count, in pass counts out of `scale` (8);
 *   `pass_rate_mae_rate` is the same divided by the scale;
 * - `pass_rate_bias` (rate units), `pearson` (predicted vs true rate, per sample);
 * - `score`: mean meta reward (`computeMetaReward`) of every meta sample
 *   against its problem's validation solution stats;
 * - `count`: meta samples with a valid pass count.
 * Undefined values (no valid prediction, no variance) are left out.
 */
export function computeValidationMetaMetrics(options: ValidationMetaOptions): Record<string, number> {
  const { config, questions, passRateScale = 8 } = options;
  const settings = config.masa;
  const parseMode = settings.parity ? 'parity' : 'robust';
  const rewardMode = settings.parity ? 'parity' : 'default';
  const lengthBounds = settings.length_bounds ?? (settings.parity ? 'strict' : 'inclusive');
  const parsedAll: boolean[] = [];
  const scores: number[] = [];
  const pairs: Array<{ predictedPassCount: number | null; truePassRate: number }> = [];
  for (const question of questions) {
    if (question.solutions.length === 0) continue;
    const truePassRate = question.solutions.filter((solution) => solution.correct).length / question.solutions.length;
    const stats = computeSolutionStats({
      rollouts: question.solutions.map((solution) => ({ text: solution.text, score: solution.correct ? 1 : 0, length: solution.tokens })),
    });
    const notionExcludeText = settings.parity ? promptText(question.metaPrompt) : question.problem.question;
    for (const text of question.metaTexts) {
      const parsed = parseMetaPrediction(text, { mode: parseMode });
      parsedAll.push(parsed.ok);
      pairs.push({ predictedPassCount: validPassCount(parsed, passRateScale), truePassRate });
      scores.push(
        computeMetaReward({ parsed, stats, notionExcludeText, mode: rewardMode, lengthBounds, passRateBase: settings.difficulty_base }).score,
      );
    }
  }
  const out: Record<string, number> = {};
  if (parsedAll.length === 0) return out;
  const calibration = passRateCalibration({ pairs, passRateScale });
  out['parse_rate'] = meanOf(parsedAll.map((ok) => (ok ? 1 : 0)));
  out['score'] = meanOf(scores);
  out['count'] = calibration.count;
  if (calibration.maePassCount !== null) out['pass_rate_mae'] = calibration.maePassCount;
  if (calibration.maePassRate !== null) out['pass_rate_mae_rate'] = calibration.maePassRate;
  if (calibration.bias !== null) out['pass_rate_bias'] = calibration.bias;
  if (calibration.pearson !== null) out['pearson'] = calibration.pearson;
  return out;
}
