/**
 * Packs prompt + response sequences into right-padded `[rows, seq]` arrays for the backend's
 * graphs. The padded length is rounded up to a bucket so that ORT sees few distinct shapes
 * (its memory plans are reused) and a row's result never depends on the batch around it.
 */
import { MasaError } from '@masa-rl/core';
import type { PolicySequence } from '@masa-rl/core';

/** Right-padded token arrays of one micro-batch. */
export interface PackedBatch {
  rows: number;
  /** Padded length (a multiple of the bucket). */
  seq: number;
  /** int64 `[rows, seq]`; padding holds `padTokenId`. */
  inputIds: BigInt64Array;
  /** int64 `[rows, seq]`: 1 on real tokens. */
  attentionMask: BigInt64Array;
  /** int64 `[rows, seq]`: 0, 1, … on real tokens, 0 on padding. */
  positionIds: BigInt64Array;
  /** bool `[rows, seq]`: 1 where the token is a response token (its log-prob is trained). */
  responseMask: Uint8Array;
  /** Index of each row's first response token (= its prompt length). */
  responseStarts: number[];
  /** Response tokens of each row. */
  responseLengths: number[];
}

/** Options of {@link packSequences}. */
export interface PackSequencesOptions {
  /** Padded lengths are multiples of this. */
  bucket: number;
  vocabSize: number;
  /** Longest sequence the model takes (`max_position_embeddings`). */
  maxLength: number;
  /** Token written into padding (any valid id; it is masked out). */
  padTokenId: number;
  /** Names the caller in errors (`forwardBackward`, `logprobs`). */
  where: string;
}

/**
 * Packs sequences. Throws `ARGUMENT_INVALID` naming the sequence for an id outside the
 * vocabulary, an empty prompt (the first response token would have no prediction) or a
 * sequence longer than the model's context.
 */
export function packSequences(sequences: readonly PolicySequence[], options: PackSequencesOptions): PackedBatch {
  const { bucket, vocabSize, maxLength, padTokenId, where } = options;
  if (sequences.length === 0) throw new MasaError('ARGUMENT_INVALID', `${where}: the batch has no sequences`);
  let longest = 0;
  sequences.forEach((sequence, index) => {
    const total = sequence.promptTokenIds.length + sequence.responseTokenIds.length;
    if (sequence.promptTokenIds.length === 0) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `${where}: sequence ${index} has an empty prompt, so its first response token has no prediction; start every prompt with at least one token (e.g. the chat template's <|im_start|>)`,
        { details: { sequence: index } },
      );
    }
    if (total > maxLength) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `${where}: sequence ${index} has ${total} tokens but the model takes at most ${maxLength} (max_position_embeddings in config.json); lower data.max_prompt_length + data.max_response_length`,
        { details: { sequence: index, tokens: total, maxLength } },
      );
    }
    longest = Math.max(longest, total);
  });
  const seq = Math.max(bucket, Math.ceil(longest / bucket) * bucket);
  const rows = sequences.length;
  const inputIds = new BigInt64Array(rows * seq).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(rows * seq);
  const positionIds = new BigInt64Array(rows * seq);
  const responseMask = new Uint8Array(rows * seq);
  const responseStarts: number[] = [];
  const responseLengths: number[] = [];
  sequences.forEach((sequence, row) => {
    const base = row * seq;
    let t = 0;
    const put = (id: number, response: boolean): void => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new MasaError(
          'ARGUMENT_INVALID',
          `${where}: sequence ${row} has token id ${id} at position ${t}, outside the vocabulary [0, ${vocabSize}); check the tokenizer matches the model`,
          { details: { sequence: row, position: t, tokenId: id } },
        );
      }
      inputIds[base + t] = BigInt(id);
      attentionMask[base + t] = 1n;
      positionIds[base + t] = BigInt(t);
      if (response) responseMask[base + t] = 1;
      t += 1;
    };
    for (const id of sequence.promptTokenIds) put(id, false);
    responseStarts.push(t);
    for (const id of sequence.responseTokenIds) put(id, true);
    responseLengths.push(sequence.responseTokenIds.length);
  });
  return { rows, seq, inputIds, attentionMask, positionIds, responseMask, responseStarts, responseLengths };
}

/** Spreads one value per response token (`values[row][j]`) into a `[rows, seq]` array, 0 elsewhere. */
export function spreadResponseValues(
  packed: PackedBatch,
  target: Float32Array | Float64Array,
  valueAt: (row: number, responseIndex: number) => number,
): void {
  for (let row = 0; row < packed.rows; row++) {
    const start = row * packed.seq + (packed.responseStarts[row] as number);
    const length = packed.responseLengths[row] as number;
    for (let j = 0; j < length; j++) target[start + j] = valueAt(row, j);
  }
}
