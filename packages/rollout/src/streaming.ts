/**
 * Token streaming, an extension of `@masa-rl/core`'s {@link GenerateOptions}:
 * engines of this package call `onDelta` as tokens are sampled, so
 * `masa serve` can stream real tokens. Engines that do not stream (any other
 * `RolloutEngine`) still work: the server sends whatever was not streamed
 * once `doGenerate` resolves.
 */
import type { FinishReason, GenerateOptions } from '@masa-rl/core';

/** New tokens of one sample. Deltas of a sample concatenate to its final `tokenIds`, `logprobs` and `text`. */
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

/** {@link GenerateOptions} plus a token stream. */
export interface StreamingGenerateOptions extends GenerateOptions {
  /** Called synchronously as tokens are sampled; keep it cheap. */
  onDelta?: (delta: SampleDelta) => void;
}
