/**
 * A scripted {@link RolloutEngine} for tests: a function decides each
 * sample's text from the request, the sample index and a seeded generator
 * derived from the request's seed, so the same request always gives the same
 * samples. Every `doGenerate` call is recorded (to count generation rounds).
 */
import { createRng, type FinishReason, type Rng, type RolloutEngine, type RolloutRequest, type RolloutResult } from '@masa-rl/core';

export interface ScriptedResponse {
  text: string;
  /** Token ids of the text. @default the tokenizer's ids of `text` */
  tokenIds?: number[];
  /** @default 'stop' (or `length`/`cutoff` when the budget truncated the sample) */
  finishReason?: FinishReason;
}

export interface ScriptedEngineRespondInput {
  request: RolloutRequest;
  /** The prompt as text (messages joined by newlines, or the decoded prompt token ids). */
  promptText: string;
  sampleIndex: number;
  /** Seeded by the request's seed and the sample index. */
  rng: Rng;
}

export interface ScriptedEngineOptions {
  /** Decides one sample. */
  respond: (input: ScriptedEngineRespondInput) => ScriptedResponse | string;
  /** Text → token ids. @default one token per UTF-16 code unit (its char code) */
  tokenize?: (text: string) => number[];
  /** Token ids → text. @default `String.fromCharCode` per id */
  detokenize?: (ids: readonly number[]) => string;
  /** Sampling log-prob reported for every token. @default -0.5 */
  tokenLogprob?: number;
  /** @default 'scripted' */
  name?: string;
}

/** One recorded `doGenerate` call. */
export interface ScriptedEngineCall {
  requests: RolloutRequest[];
}

export interface ScriptedEngine extends RolloutEngine {
  /** Every `doGenerate` call so far, in order. */
  readonly calls: ScriptedEngineCall[];
}

const defaultTokenize = (text: string): number[] => Array.from(text, (char) => char.charCodeAt(0));
const defaultDetokenize = (ids: readonly number[]): string => ids.map((id) => String.fromCharCode(id)).join('');

/** Creates a scripted engine. */
export function createScriptedEngine(options: ScriptedEngineOptions): ScriptedEngine {
  const { respond, tokenize = defaultTokenize, detokenize = defaultDetokenize, tokenLogprob = -0.5, name = 'scripted' } = options;
  const calls: ScriptedEngineCall[] = [];
  return {
    specificationVersion: 'v1',
    name,
    calls,
    async doGenerate(requests, generateOptions) {
      generateOptions?.signal?.throwIfAborted();
      calls.push({ requests: requests.map((request) => ({ ...request })) });
      const results: RolloutResult[] = [];
      for (const request of requests) {
        const promptText =
          request.messages !== undefined ? request.messages.map((message) => message.content).join('\n') : detokenize(request.promptTokenIds ?? []);
        const promptTokenIds = request.promptTokenIds !== undefined ? [...request.promptTokenIds] : tokenize(promptText);
        const samples = [];
        for (let sampleIndex = 0; sampleIndex < (request.n ?? 1); sampleIndex++) {
          const rng = createRng(request.seed ?? 0).fork(sampleIndex);
          const raw = respond({ request, promptText, sampleIndex, rng });
          const response: ScriptedResponse = typeof raw === 'string' ? { text: raw } : raw;
          let tokenIds = response.tokenIds ?? tokenize(response.text);
          let text = response.text;
          let finishReason: FinishReason = response.finishReason ?? 'stop';
          if (tokenIds.length > request.maxNewTokens) {
            tokenIds = tokenIds.slice(0, request.maxNewTokens);
            text = detokenize(tokenIds);
            finishReason = request.budgetIsCutoff === true ? 'cutoff' : 'length';
          }
          samples.push({ tokenIds, text, logprobs: tokenIds.map(() => tokenLogprob), finishReason });
        }
        results.push({ requestId: request.id, promptTokenIds, samples });
      }
      return results;
    },
  };
}
