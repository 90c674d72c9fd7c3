import { MasaError, type Rng } from '@masa-rl/core';
import type { JsonValue } from './json-literal-parser.js';
import type { ParsedMetaPrediction } from './meta-reward.js';
import { normalizeNotions } from './notions.js';
import { pythonRepr } from './python-repr.js';

/**
 * The reference's notion hint sentence (MASA-SPEC §4.3), with the notions
 * rendered as Python's `repr` (`['a', 'b']`). Note the leading and trailing
 * space, kept for parity.
 */
export function notionHintText(notions: JsonValue): string {
  return ` The problem could be solved using following math notions: ${pythonRepr(notions)}. `;
}

/** Result of {@link pickNotionHint}. */
export interface NotionHint {
  /** The hint sentence. */
  hint: string;
  /** Index of the chosen prediction in `predictions`. */
  index: number;
}

export interface PickNotionHintOptions {
  /** The parsed meta predictions of one question. */
  predictions: readonly ParsedMetaPrediction[];
  /** Seeded generator; one call draws one prediction (call once per solution slot or once per question). */
  rng: Rng;
  /**
   * `parity` renders the raw `math_notion` value (a string stays a string);
   * `default` renders the normalised list of notions.
   * @default 'default'
   */
  mode?: 'default' | 'parity';
}

/**
 * Notion feed-in (MASA-SPEC §8, v2 semantics: notions only): picks one of the
 * question's predictions uniformly at random among those with usable notions
 * and returns its hint sentence; `null` when none has any.
 *
 * Usable: in `parity` mode, any prediction with a `math_notion` key; in
 * `default` mode, one whose notions normalise to at least one non-blank
 * string. (The reference also draws predictions without notions, which
 * yields an empty hint; we skip them.)
 */
export function pickNotionHint(options: PickNotionHintOptions): NotionHint | null {
  const { predictions, rng, mode = 'default' } = options;
  if (!Array.isArray(predictions)) {
    throw new MasaError('ARGUMENT_INVALID', 'pickNotionHint: `predictions` must be the parsed meta predictions of one question.');
  }
  if (typeof rng !== 'object' || rng === null || typeof rng.int !== 'function') {
    throw new MasaError('ARGUMENT_INVALID', 'pickNotionHint: pass a seeded `rng` from createRng(seed) (@masa-rl/core).');
  }
  const usable: Array<{ index: number; notions: JsonValue }> = [];
  predictions.forEach((parsed, index) => {
    const { prediction } = parsed;
    if (!Object.hasOwn(prediction.fields, 'math_notion')) return;
    if (mode === 'parity') {
      usable.push({ index, notions: prediction.mathNotion ?? null });
      return;
    }
    const list = normalizeNotions(prediction.mathNotion);
    if (!list.ok) return;
    const notions = list.notions.filter((notion) => notion.trim() !== '');
    if (notions.length > 0) usable.push({ index, notions });
  });
  if (usable.length === 0) return null;
  const chosen = usable[rng.int(0, usable.length - 1)];
  if (chosen === undefined) return null;
  return { hint: notionHintText(chosen.notions), index: chosen.index };
}

export interface AppendNotionHintOptions {
  /** The original user content of the solution prompt. */
  solutionPrompt: string;
  /** A hint from {@link pickNotionHint}; `null` leaves the prompt unchanged. */
  hint: NotionHint | string | null;
}

/** Appends the hint after a blank line (`prompt + "\n\n" + hint`), as the reference does. */
export function appendNotionHint(options: AppendNotionHintOptions): string {
  const { solutionPrompt, hint } = options;
  if (hint === null) return solutionPrompt;
  return `${solutionPrompt}\n\n${typeof hint === 'string' ? hint : hint.hint}`;
}
