/**
 * A scripted {@link RolloutEngine} for tests of servers, clients and process
 * plumbing. A function decides each sample's full continuation; the engine
 * then plays it token by token through the real stop/budget tracker, so stop
 * strings, stop token ids, `maxNewTokens` and `budgetIsCutoff` behave as in
 * every masa-rl engine. It streams deltas (`onDelta`), reports events, honours
 * abort between tokens, and can sleep or busy-wait to imitate a slow model.
 */
import {
  MasaError,
  type FinishReason,
  type RolloutEngine,
  type RolloutEvent,
  type RolloutRequest,
  type RolloutResult,
  type RolloutSample,
  type Rng,
} from '@masa-rl/core';
import { validateRolloutRequest } from '../request-validation.js';
import { createSampleRng } from '../sampling.js';
import { createSequenceTracker } from '../sequence-tracker.js';
import type { GenerateOptions } from '@masa-rl/core';

export interface ScriptedRespondInput {
  request: RolloutRequest;
  /** The prompt as text: messages as `role: content` lines, or the decoded prompt ids. */
  promptText: string;
  sampleIndex: number;
  /** Seeded by (request seed, sample index), like the real engines' sampling streams. */
  rng: Rng;
}

/** A continuation: text (tokenized with `tokenize`) or explicit token ids; optional per-token logprobs. */
export type ScriptedResponse = string | { text?: string; tokenIds?: number[]; logprobs?: number[] };

export interface ScriptedEngineOptions {
  /** Decides a sample's whole continuation; the engine stops it early on stop conditions or the budget. May throw. */
  respond: (input: ScriptedRespondInput) => ScriptedResponse;
  /** Text → ids. @default one id per UTF-16 code unit (its char code) */
  tokenize?: (text: string) => number[];
  /** Ids → text. @default `String.fromCharCode` of each id */
  decode?: (tokenIds: readonly number[]) => string;
  /** Sampling logprob of every token when the response gives none. @default -0.5 */
  tokenLogprob?: number;
  /** Raw logprob = sampling logprob + this (so tests can tell them apart). @default -0.25 */
  rawLogprobOffset?: number;
  /** Async pause before each token (lets tests watch streaming and disconnects). @default 0 */
  tokenDelayMs?: number;
  /** Synchronous busy-wait at the start of every `doGenerate` (imitates ORT's blocking session.run). @default 0 */
  blockMs?: number;
  /** @default 'scripted' */
  name?: string;
}

/** What a scripted engine saw. */
export interface ScriptedEngine extends RolloutEngine {
  /** Requests of every `doGenerate` call, in order. */
  readonly calls: RolloutRequest[][];
  /** Signals of every call (to check that aborts reach the engine). */
  readonly signals: (AbortSignal | undefined)[];
  /** Whether `close()` ran. */
  readonly closed: boolean;
}

const defaultTokenize = (text: string): number[] => Array.from({ length: text.length }, (_, index) => text.charCodeAt(index));
const defaultDecode = (tokenIds: readonly number[]): string => tokenIds.map((id) => String.fromCharCode(id)).join('');

/** Creates a scripted engine. */
export function createScriptedEngine(options: ScriptedEngineOptions): ScriptedEngine {
  const {
    respond,
    tokenize = defaultTokenize,
    decode = defaultDecode,
    tokenLogprob = -0.5,
    rawLogprobOffset = -0.25,
    tokenDelayMs = 0,
    blockMs = 0,
    name = 'scripted',
  } = options;
  const calls: RolloutRequest[][] = [];
  const signals: (AbortSignal | undefined)[] = [];
  let closed = false;

  const checkAbort = (signal: AbortSignal | undefined): void => {
    if (signal?.aborted === true) throw new MasaError('ABORTED', `${name}: generation aborted by the caller`, { cause: signal.reason });
  };

  return {
    specificationVersion: 'v1',
    name,
    calls,
    signals,
    get closed() {
      return closed;
    },
    async close() {
      closed = true;
    },
    async doGenerate(requests, generateOptions: GenerateOptions = {}) {
      const { signal, onEvent, onDelta } = generateOptions;
      checkAbort(signal);
      if (closed) throw new MasaError('ENGINE_FAILED', `${name}: the engine is closed`);
      const validated = requests.map((request) => validateRolloutRequest(request));
      calls.push(requests.map((request) => ({ ...request })));
      signals.push(signal);
      const emit = (event: RolloutEvent): void => onEvent?.(event);
      const started = performance.now();
      if (blockMs > 0) {
        const until = performance.now() + blockMs;
        while (performance.now() < until) {
          // busy-wait on purpose: this imitates a blocking native call
        }
      }
      let sequences = validated.reduce((sum, item) => sum + item.n, 0);
      emit({ type: 'generation-start', requests: validated.length, sequences });
      let totalTokens = 0;
      const results: RolloutResult[] = [];
      for (const { request, n } of validated) {
        const promptText =
          request.messages !== undefined ? request.messages.map((message) => `${message.role}: ${message.content}`).join('\n') : decode(request.promptTokenIds ?? []);
        const promptTokenIds = request.promptTokenIds !== undefined ? [...request.promptTokenIds] : tokenize(promptText);
        const samples: RolloutSample[] = [];
        for (let sampleIndex = 0; sampleIndex < n; sampleIndex++) {
          const raw = respond({ request, promptText, sampleIndex, rng: createSampleRng(request.seed ?? 0, sampleIndex) });
          const response = typeof raw === 'string' ? { text: raw } : raw;
          const planned = response.tokenIds ?? tokenize(response.text ?? '');
          const tracker = createSequenceTracker({
            decode,
            maxNewTokens: request.maxNewTokens,
            budgetIsCutoff: request.budgetIsCutoff ?? false,
            stopTokenIds: request.stopTokenIds ?? [],
            stopStrings: request.stopStrings ?? [],
          });
          const logprobs: number[] = [];
          let finishReason: FinishReason | null = null;
          for (const [position, tokenId] of planned.entries()) {
            if (tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, tokenDelayMs));
            checkAbort(signal);
            const logprob = response.logprobs?.[position] ?? tokenLogprob;
            logprobs.push(logprob);
            const step = tracker.push(tokenId);
            finishReason = step.finishReason;
            onDelta?.({ requestId: request.id, sampleIndex, tokenIds: [tokenId], logprobs: [logprob], textDelta: step.textDelta, finishReason });
            emit({ type: 'tokens-generated', tokens: 1, activeSequences: sequences });
            if (finishReason !== null) break;
          }
          if (finishReason === null) {
            // The script ran out: an implicit end of sequence (not part of tokenIds).
            const step = tracker.end('stop');
            finishReason = 'stop';
            onDelta?.({ requestId: request.id, sampleIndex, tokenIds: [], logprobs: [], textDelta: step.textDelta, finishReason });
          }
          const tokenIds = [...tracker.tokenIds];
          totalTokens += tokenIds.length;
          sequences -= 1;
          const sample: RolloutSample = { tokenIds, text: tracker.text, logprobs, finishReason };
          if (request.returnRawLogprobs === true) sample.rawLogprobs = logprobs.map((value) => value + rawLogprobOffset);
          samples.push(sample);
          emit({ type: 'sequence-end', requestId: request.id, sampleIndex, tokens: tokenIds.length, finishReason });
        }
        results.push({ requestId: request.id, promptTokenIds, samples });
      }
      emit({ type: 'generation-end', tokens: totalTokens, ms: performance.now() - started });
      return results;
    },
  };
}
