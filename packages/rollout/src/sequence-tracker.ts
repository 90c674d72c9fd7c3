/**
 * Per-sample stop handling: stop token ids, stop strings found by incremental
 * detokenisation (so a stop string may span any number of tokens, or end in the
 * middle of one), and the per-request token budget.
 *
 * What a finished sample holds (the contract every masa-rl engine follows):
 * - finished by a **stop token id** (EOS included): `tokenIds` ends with that
 *   token; `text` is the decoded text of the tokens before it. `stop`.
 * - finished by a **stop string**: `tokenIds` runs up to and including the
 *   token that completed the first occurrence of any stop string; `text` is
 *   the decoded text trimmed right before that occurrence (the stop string and
 *   whatever the last token added after it are dropped). When several stop
 *   strings complete on the same token, the one that starts earliest wins.
 *   `stop`.
 * - finished by the **budget** (`maxNewTokens` tokens without a stop): all
 *   tokens and their full text; `cutoff` when `budgetIsCutoff`, else `length`.
 *   A stop on the last budget token counts as `stop`.
 *
 * Incremental detokenisation decodes a short window (the previous chunk plus
 * the new tokens) and emits the difference once it no longer ends in U+FFFD (a
 * multi-byte character split across tokens), as vLLM and Hugging Face's text
 * streamer do. Streamed text (`textDelta`) also holds back any tail that could
 * be the start of a stop string, so a client never receives text that is
 * trimmed later: the deltas concatenate to exactly the final `text`.
 */
import { MasaError, type FinishReason } from '@masa-rl/core';

export interface SequenceTrackerOptions {
  /** Token ids → text (the tokenizer's decode; special tokens as the engine wants them shown). */
  decode: (tokenIds: readonly number[]) => string;
  /** Token budget of the sample (≥ 1). */
  maxNewTokens: number;
  /** Report the budget as `cutoff` rather than `length`. @default false */
  budgetIsCutoff?: boolean;
  /** Token ids that end the sample (kept in `tokenIds`, left out of `text`). @default [] */
  stopTokenIds?: readonly number[];
  /** Strings that end the sample (trimmed from `text`). @default [] */
  stopStrings?: readonly string[];
}

/** What one pushed token did. */
export interface SequenceStep {
  /** Set once the sample is finished (by this token). */
  finishReason: FinishReason | null;
  /** Text that became final with this token (may be empty); the deltas concatenate to the final `text`. */
  textDelta: string;
}

export interface SequenceTracker {
  /** Appends one sampled token. Throws once the sample is finished. */
  push(tokenId: number): SequenceStep;
  /**
   * Ends an unfinished sample from outside (the model ran out of tokens to give, as a scripted engine does):
   * flushes pending text and finishes with `reason`. Returns the last step; a finished sample returns an empty step.
   */
  end(reason?: FinishReason): SequenceStep;
  readonly tokenIds: readonly number[];
  /** The text so far: final once finished; before that, what was confirmed (streamed) so far. */
  readonly text: string;
  readonly finishReason: FinishReason | null;
}

/**
 * Checks stop conditions and the budget of one request. `where` names the
 * source in the message (`request "q-3"`).
 */
export function validateStopConditions(
  conditions: { maxNewTokens: number; stopStrings?: readonly string[] | undefined; stopTokenIds?: readonly number[] | undefined },
  where = 'request',
): void {
  if (!Number.isInteger(conditions.maxNewTokens) || conditions.maxNewTokens < 1) {
    throw new MasaError('ARGUMENT_INVALID', `${where}: maxNewTokens must be an integer ≥ 1, got ${conditions.maxNewTokens}`, {
      details: { field: 'maxNewTokens', value: conditions.maxNewTokens },
    });
  }
  for (const stop of conditions.stopStrings ?? []) {
    if (typeof stop !== 'string' || stop.length === 0) {
      throw new MasaError('ARGUMENT_INVALID', `${where}: stopStrings must hold non-empty strings, got ${JSON.stringify(stop)}`, {
        details: { field: 'stopStrings' },
      });
    }
  }
  for (const id of conditions.stopTokenIds ?? []) {
    if (!Number.isInteger(id) || id < 0) {
      throw new MasaError('ARGUMENT_INVALID', `${where}: stopTokenIds must hold integer token ids ≥ 0, got ${id}`, { details: { field: 'stopTokenIds' } });
    }
  }
}

/** Creates the stop/budget tracker of one sample. */
export function createSequenceTracker(options: SequenceTrackerOptions): SequenceTracker {
  const { decode, maxNewTokens, budgetIsCutoff = false, stopTokenIds = [], stopStrings = [] } = options;
  validateStopConditions({ maxNewTokens, stopStrings, stopTokenIds });
  const stopIds = new Set(stopTokenIds);
  const longestStop = stopStrings.reduce((longest, stop) => Math.max(longest, stop.length), 0);

  const tokenIds: number[] = [];
  let prefixOffset = 0; // start of the decode window
  let readOffset = 0; // tokens before this are in `text`
  let text = ''; // decoded text of tokenIds[0..readOffset)
  let streamed = 0; // characters of `text` handed out as deltas
  let finishReason: FinishReason | null = null;

  /** Decoded text of the tokens not yet in `text` (decoding a window that starts one chunk earlier, for context). */
  const pendingText = (): string => {
    if (readOffset === tokenIds.length) return '';
    const prefix = decode(tokenIds.slice(prefixOffset, readOffset));
    const full = decode(tokenIds.slice(prefixOffset));
    return full.startsWith(prefix) ? full.slice(prefix.length) : full.slice(Math.min(prefix.length, full.length));
  };
  const commit = (pending: string): void => {
    text += pending;
    prefixOffset = readOffset;
    readOffset = tokenIds.length;
  };

  /** Length of the longest tail of `text` that is a proper prefix of a stop string. */
  const heldBack = (): number => {
    let hold = 0;
    for (const stop of stopStrings) {
      for (let length = Math.min(stop.length - 1, text.length); length > hold; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          hold = length;
          break;
        }
      }
    }
    return hold;
  };

  const finish = (reason: FinishReason, finalText: string): SequenceStep => {
    finishReason = reason;
    text = finalText;
    const textDelta = text.slice(streamed);
    streamed = text.length;
    return { finishReason, textDelta };
  };

  return {
    get tokenIds() {
      return tokenIds;
    },
    get text() {
      return finishReason === null ? text.slice(0, streamed) : text;
    },
    get finishReason() {
      return finishReason;
    },
    end(reason = 'stop') {
      if (finishReason !== null) return { finishReason, textDelta: '' };
      commit(pendingText());
      return finish(reason, text);
    },
    push(tokenId) {
      if (finishReason !== null) {
        throw new MasaError('INTERNAL', `sequence tracker: token pushed after the sample finished (${finishReason}); this is a bug in the engine`);
      }
      if (stopIds.has(tokenId)) {
        // The stop token's own text is not shown: flush what came before it.
        commit(pendingText());
        tokenIds.push(tokenId);
        return finish('stop', text);
      }
      tokenIds.push(tokenId);
      const checkFrom = Math.max(0, text.length - longestStop + 1);
      const atBudget = tokenIds.length >= maxNewTokens;
      const pending = pendingText();
      // A trailing U+FFFD is a character split across tokens: keep it pending, but still look for stop strings before it.
      const complete = atBudget || (pending.length > 0 && !pending.endsWith('\uFFFD'));
      const candidate = text + (complete ? pending : pending.replace(/\uFFFD+$/u, ''));
      if (complete) commit(pending);
      if (longestStop > 0) {
        let earliest = -1;
        for (const stop of stopStrings) {
          const at = candidate.indexOf(stop, checkFrom);
          if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        if (earliest >= 0) return finish('stop', candidate.slice(0, earliest));
      }
      if (atBudget) return finish(budgetIsCutoff ? 'cutoff' : 'length', text);
      const confirmed = text.length - heldBack();
      const textDelta = confirmed > streamed ? text.slice(streamed, confirmed) : '';
      streamed = Math.max(streamed, confirmed);
      return { finishReason: null, textDelta };
    },
  };
}
