import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createDataLoader } from './data-loader.js';

const drain = (loader: ReturnType<typeof createDataLoader>) => {
  const out = [];
  for (;;) {
    const more = loader.hasNext();
    const batch = loader.next();
    expect(batch !== undefined).toBe(more);
    if (batch === undefined) break;
    out.push(batch);
  }
  return out;
};

describe('createDataLoader', () => {
  it('serves each epoch as a permutation, dropping the incomplete tail', () => {
    const loader = createDataLoader({ size: 10, batchSize: 3, seed: 1, totalEpochs: 2 });
    expect(loader.batchesPerEpoch).toBe(3); // floor(10 / 3)
    const batches = drain(loader);
    expect(batches.map((b) => [b.epoch, b.batchIndex])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    for (const epoch of [0, 1]) {
      const seen = batches.filter((b) => b.epoch === epoch).flatMap((b) => b.indices);
      expect(seen.length).toBe(9);
      expect(new Set(seen).size).toBe(9);
      expect(seen).toEqual(loader.permutation(epoch).slice(0, 9));
    }
    // A permutation of 0..9 that differs between epochs (10! orderings: a collision would be a bug).
    expect([...loader.permutation(0)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(loader.permutation(0)).not.toEqual(loader.permutation(1));
  });

  it('keeps the tail without drop_last and keeps order without shuffle', () => {
    const loader = createDataLoader({ size: 5, batchSize: 2, seed: 1, shuffle: false, dropLast: false, totalEpochs: 1 });
    expect(drain(loader).map((b) => b.indices)).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('is a pure function of the seed', () => {
    const a = drain(createDataLoader({ size: 20, batchSize: 4, seed: 7, totalEpochs: 3 }));
    const b = drain(createDataLoader({ size: 20, batchSize: 4, seed: 7, totalEpochs: 3 }));
    const c = drain(createDataLoader({ size: 20, batchSize: 4, seed: 8, totalEpochs: 3 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('resumes from any cursor exactly', () => {
    const full = drain(createDataLoader({ size: 11, batchSize: 2, seed: 3, totalEpochs: 3 }));
    for (let k = 0; k <= full.length; k++) {
      const first = createDataLoader({ size: 11, batchSize: 2, seed: 3, totalEpochs: 3 });
      for (let i = 0; i < k; i++) first.next();
      const resumed = createDataLoader({ size: 11, batchSize: 2, seed: 3, totalEpochs: 3, state: first.getState() });
      expect(drain(resumed)).toEqual(full.slice(k));
    }
  });

  it('rejects a dataset smaller than one batch and a cursor that does not fit', () => {
    try {
      createDataLoader({ size: 3, batchSize: 4, seed: 1 });
      expect.unreachable();
    } catch (error: unknown) {
      expect(MasaError.hasCode(error, 'DATASET_INVALID')).toBe(true);
      expect((error as Error).message).toContain('data.train_batch_size');
    }
    expect(() => createDataLoader({ size: 8, batchSize: 4, seed: 1, state: { epoch: 0, batchIndex: 3 } })).toThrow(/cursor/);
    expect(() => createDataLoader({ size: 8, batchSize: 0, seed: 1 })).toThrow(/batch size/);
  });
});
