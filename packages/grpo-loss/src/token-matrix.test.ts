import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { broadcastToTokens, gatherRows, responseLengths } from './token-matrix.js';

function errorOf(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

describe('token matrix helpers', () => {
  const responseMask = new Uint8Array([1, 1, 0, 1, 1, 1, 0, 0, 0]); // [3, 3]

  it('broadcastToTokens puts each sequence value on its response tokens only', () => {
    const out = broadcastToTokens({ values: [0.5, -2, 7], responseMask, seqLen: 3 });
    expect(Array.from(out)).toEqual([0.5, 0.5, 0, -2, -2, -2, 0, 0, 0]);
  });

  it('responseLengths counts response tokens per row', () => {
    expect(Array.from(responseLengths(responseMask, 3))).toEqual([2, 3, 0]);
  });

  it('gatherRows copies rows in the requested order', () => {
    const matrix = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(Array.from(gatherRows({ matrix, seqLen: 3, rows: [2, 0] }))).toEqual([7, 8, 9, 1, 2, 3]);
  });

  it('rejects shapes that do not fit', () => {
    expect(errorOf(() => broadcastToTokens({ values: [1, 2], responseMask, seqLen: 3 })).message).toContain(
      'one per sequence',
    );
    expect(errorOf(() => responseLengths(responseMask, 4)).code).toBe('ARGUMENT_INVALID');
    expect(errorOf(() => responseLengths(responseMask, 0)).message).toContain('seqLen');
    expect(errorOf(() => gatherRows({ matrix: [1, 2, 3, 4], seqLen: 2, rows: [2] })).code).toBe('ARGUMENT_INVALID');
  });
});
