import { MasaError } from '@masa-rl/core';

/** A batch of token rows in the layout every graph takes (row-major `[batch, seq]`). */
export interface TokenBatch {
  batch: number;
  seq: number;
  /** int64 `[batch, seq]` */
  inputIds: BigInt64Array;
  /** int64 `[batch, seq]`: 1 real, 0 padding */
  attentionMask: BigInt64Array;
  /** int64 `[batch, seq]`: positions counted over real tokens only */
  positionIds: BigInt64Array;
}

/**
 * Position ids from an attention mask, as transformers computes them for left-padded
 * batches: `cumsum(mask) - 1` on real tokens, 1 on padding (never read).
 */
export function positionIdsFromMask(mask: BigInt64Array, batch: number, seq: number): BigInt64Array {
  const out = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    let count = 0n;
    for (let t = 0; t < seq; t++) {
      const i = b * seq + t;
      if ((mask[i] as bigint) === 0n) out[i] = 1n;
      else {
        out[i] = count;
        count += 1n;
      }
    }
  }
  return out;
}

/** Options of {@link leftPadBatch}. */
export interface LeftPadOptions {
  /** Token rows of any lengths (each at least one token). */
  sequences: readonly (readonly number[])[];
  /** Id written into padding slots (never attended to). @default 0 */
  padTokenId?: number;
}

/** Left-pads rows to one length, so that every row's last token is in the last column. */
export function leftPadBatch(options: LeftPadOptions): TokenBatch {
  const { sequences, padTokenId = 0 } = options;
  if (sequences.length === 0) throw new MasaError('ARGUMENT_INVALID', 'leftPadBatch: no sequences');
  const seq = Math.max(...sequences.map((row) => row.length));
  if (sequences.some((row) => row.length === 0)) throw new MasaError('ARGUMENT_INVALID', 'leftPadBatch: every sequence needs at least one token');
  const batch = sequences.length;
  const inputIds = new BigInt64Array(batch * seq).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(batch * seq);
  sequences.forEach((row, b) => {
    const offset = seq - row.length;
    row.forEach((token, t) => {
      inputIds[b * seq + offset + t] = BigInt(token);
      attentionMask[b * seq + offset + t] = 1n;
    });
  });
  return { batch, seq, inputIds, attentionMask, positionIds: positionIdsFromMask(attentionMask, batch, seq) };
}
