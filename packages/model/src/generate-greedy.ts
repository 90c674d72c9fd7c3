import { MasaError } from '@masa-rl/core';
import type { ModelRunner } from './model-runner.js';
import { leftPadBatch } from './token-batch.js';

/** Options of {@link generateGreedy}. */
export interface GenerateGreedyOptions {
  runner: ModelRunner;
  /** Prompt token rows (left-padded together). */
  prompts: readonly (readonly number[])[];
  /** Most new tokens per row. */
  maxNewTokens: number;
  /** A row stops after emitting one of these (it is kept in the output). @default the config's eos ids */
  eosTokenIds?: readonly number[];
  /** Id placed in padding slots. @default 0 */
  padTokenId?: number;
}

/**
 * Greedy decoding with the KV cache: one prefill of the left-padded prompts, then one
 * step per new token (argmax, lowest id on ties). Returns each row's new tokens.
 * This is the reference path for comparisons; `@masa-rl/rollout` owns real sampling.
 */
export async function generateGreedy(options: GenerateGreedyOptions): Promise<number[][]> {
  const { runner, prompts, maxNewTokens, padTokenId = 0 } = options;
  const eos = new Set(options.eosTokenIds ?? runner.config.eosTokenIds);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new MasaError('ARGUMENT_INVALID', `generateGreedy: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  }
  const vocab = runner.config.vocabSize;
  const padded = leftPadBatch({ sequences: prompts, padTokenId });
  const { batch } = padded;
  const outputs: number[][] = prompts.map(() => []);
  const done = prompts.map(() => maxNewTokens === 0);
  let mask = padded.attentionMask;
  const nextPosition = prompts.map((row) => row.length);
  let result = await runner.step({
    batch,
    seq: padded.seq,
    inputIds: padded.inputIds,
    attentionMask: padded.attentionMask,
    positionIds: padded.positionIds,
  });
  for (let step = 0; step < maxNewTokens; step++) {
    const chosen = new BigInt64Array(batch);
    for (let b = 0; b < batch; b++) {
      let best = 0;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < vocab; v++) {
        const value = result.logits[b * vocab + v] as number;
        if (value > bestValue) {
          bestValue = value;
          best = v;
        }
      }
      chosen[b] = BigInt(best);
      if (!done[b]) {
        (outputs[b] as number[]).push(best);
        if (eos.has(best) || (outputs[b] as number[]).length >= maxNewTokens) done[b] = true;
      }
    }
    if (done.every(Boolean)) break;
    const length = result.cache.length + 1;
    const nextMask = new BigInt64Array(batch * length);
    for (let b = 0; b < batch; b++) {
      nextMask.set(mask.subarray(b * (length - 1), (b + 1) * (length - 1)), b * length);
      nextMask[b * length + length - 1] = 1n;
    }
    mask = nextMask;
    const positions = BigInt64Array.from(nextPosition, (p) => BigInt(p));
    for (let b = 0; b < batch; b++) nextPosition[b] = (nextPosition[b] as number) + 1;
    result = await runner.step({ batch, seq: 1, inputIds: chosen, attentionMask: mask, positionIds: positions, cache: result.cache });
  }
  return outputs;
}
