import { MasaError } from '@masa-rl/core';
import { checkLength, checkResponseMask, describeContext } from './input-checks.js';
import type { ErrorContext, NumberArrayLike } from './types.js';

/** Options of {@link broadcastToTokens}. */
export interface BroadcastOptions {
  /** One value per sequence, `[batch]` (e.g. advantages). */
  values: NumberArrayLike;
  /** Flat `[batch, seqLen]` 0/1 response mask. */
  responseMask: NumberArrayLike;
  /** Padded response length (columns of the mask). */
  seqLen: number;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/**
 * Broadcasts one value per sequence to its response tokens:
 * `out[i, t] = values[i] · mask[i, t]` (verl: `scores.unsqueeze(-1) * response_mask`).
 * Returns a flat `[batch, seqLen]` Float64Array.
 */
export function broadcastToTokens({ values, responseMask, seqLen, context }: BroadcastOptions): Float64Array {
  const batch = checkResponseMask(responseMask, seqLen, context);
  checkLength('values', values, batch, 'one per sequence (row of responseMask)', context);
  const out = new Float64Array(responseMask.length); // [batch, seqLen]
  for (let row = 0; row < batch; row++) {
    const value = values[row] as number;
    const base = row * seqLen;
    for (let col = 0; col < seqLen; col++) {
      if (responseMask[base + col] === 1) out[base + col] = value;
    }
  }
  return out;
}

/**
 * Number of response tokens of each sequence, `Σ_t mask[i, t]`, as an
 * Int32Array `[batch]`. This is the "response length" of verl's metrics
 * (tokens up to and including EOS).
 */
export function responseLengths(responseMask: NumberArrayLike, seqLen: number, context?: ErrorContext): Int32Array {
  const batch = checkResponseMask(responseMask, seqLen, context);
  const lengths = new Int32Array(batch);
  for (let row = 0; row < batch; row++) {
    let count = 0;
    const base = row * seqLen;
    for (let col = 0; col < seqLen; col++) count += responseMask[base + col] as number;
    lengths[row] = count;
  }
  return lengths;
}

/** Options of {@link gatherRows}. */
export interface GatherRowsOptions {
  /** A flat `[batch, seqLen]` matrix. */
  matrix: NumberArrayLike;
  /** Columns of the matrix. */
  seqLen: number;
  /** Rows to take, in the order wanted (e.g. one micro-batch's sequence indices). */
  rows: readonly number[];
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/**
 * Copies the given rows of a `[batch, seqLen]` matrix into a new
 * `[rows.length, seqLen]` Float64Array: how a trainer cuts a micro-batch out of
 * a mini-batch.
 */
export function gatherRows({ matrix, seqLen, rows, context }: GatherRowsOptions): Float64Array {
  if (!Number.isInteger(seqLen) || seqLen <= 0 || matrix.length % seqLen !== 0) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `matrix has ${matrix.length} entries, not a whole number of rows of seqLen ${String(seqLen)}${describeContext(context)}`,
      { details: { length: matrix.length, seqLen, ...context } },
    );
  }
  const batch = matrix.length / seqLen;
  const out = new Float64Array(rows.length * seqLen);
  rows.forEach((row, k) => {
    if (!Number.isInteger(row) || row < 0 || row >= batch) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `rows[${k}] = ${String(row)} is not a row index of a batch of ${batch}${describeContext(context)}`,
        { details: { index: k, row, batch, ...context } },
      );
    }
    for (let col = 0; col < seqLen; col++) out[k * seqLen + col] = matrix[row * seqLen + col] as number;
  });
  return out;
}
