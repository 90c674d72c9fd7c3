import type { FinishReason } from './types.js';

/** One chat message, as chat templates take them. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * One generation request: a prompt and how to sample `n` continuations of it.
 * Exactly one of `promptTokenIds` and `messages` is set.
 */
export interface RolloutRequest {
  /** Caller's id, echoed in the result and in events. */
  id: string;
  /** Prompt as token ids (already chat-templated). */
  promptTokenIds?: readonly number[];
  /** Prompt as chat messages; the engine applies its chat template with a generation prompt. */
  messages?: readonly ChatMessage[];
  /** Samples to draw from this prompt. @default 1 */
  n?: number;
  /** Token budget of each sample. MASA's length cutoff sets it per question; a sample stopped by it finishes with `cutoff` when `budgetIsCutoff` is set, else `length`. */
  maxNewTokens: number;
  /** Report samples stopped by `maxNewTokens` as `cutoff` (MASA's per-question budget) rather than `length`. @default false */
  budgetIsCutoff?: boolean;
  /** @default 1 */
  temperature?: number;
  /** Nucleus sampling mass; 1 disables it. @default 1 */
  topP?: number;
  /** Keep only the k most likely tokens; 0 or undefined disables it. */
  topK?: number;
  /** Token ids that end a sample (included in the output, like an EOS). */
  stopTokenIds?: readonly number[];
  /** Strings that end a sample; the text is trimmed before the stop string. */
  stopStrings?: readonly string[];
  /** Seed of this request's sampling; the same seed gives the same samples. */
  seed?: number;
  /** Also return the model's raw (temperature-1, unfiltered) log-probabilities of the sampled tokens. @default false */
  returnRawLogprobs?: boolean;
}

/** One sampled continuation. */
export interface RolloutSample {
  tokenIds: number[];
  text: string;
  /** Log-probability of each sampled token under the sampling distribution actually used. */
  logprobs: number[];
  /** Raw model log-probabilities of the sampled tokens, when requested. */
  rawLogprobs?: number[];
  finishReason: FinishReason;
}

export interface RolloutResult {
  requestId: string;
  promptTokenIds: number[];
  samples: RolloutSample[];
}

/** Progress of a generation call, reported as it happens. */
export type RolloutEvent =
  | { type: 'generation-start'; requests: number; sequences: number }
  | { type: 'tokens-generated'; tokens: number; activeSequences: number }
  | { type: 'sequence-end'; requestId: string; sampleIndex: number; tokens: number; finishReason: FinishReason }
  | { type: 'generation-end'; tokens: number; ms: number };

/** New tokens of one sample, as an engine streams them. Deltas of a sample concatenate to its final `tokenIds`, `logprobs` and `text`. */
export interface SampleDelta {
  requestId: string;
  sampleIndex: number;
  tokenIds: number[];
  logprobs: number[];
  /** Text that became final (held-back text that might start a stop string comes later, or never). */
  textDelta: string;
  /** Set on the sample's last delta. */
  finishReason: FinishReason | null;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onEvent?: (event: RolloutEvent) => void;
  /**
   * Token streaming: engines that stream call it synchronously as tokens are
   * sampled (keep it cheap); engines that do not never call it, and the
   * caller takes the whole samples from `doGenerate`'s result.
   */
  onDelta?: (delta: SampleDelta) => void;
}

/**
 * Anything that samples completions: the ONNX Runtime engine, an
 * OpenAI-compatible server (vLLM, SGLang, `masa serve`), or a scripted fake in
 * tests. Callers use it through `generate()` helpers; implementers provide the
 * `do*` verbs.
 */
export interface RolloutEngine {
  readonly specificationVersion: 'v1';
  /** Human-readable engine name for logs (`ort`, `openai:http://…`). */
  readonly name: string;
  doGenerate(requests: readonly RolloutRequest[], options?: GenerateOptions): Promise<RolloutResult[]>;
  /** Frees sessions, sockets, child processes. */
  close?(): Promise<void>;
}
