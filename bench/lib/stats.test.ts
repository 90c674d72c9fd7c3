import { describe, expect, it } from 'vitest';
import { median, quantileSorted, summarize } from './stats.mjs';

/** A small seeded generator (LCG), so the cross-check below is deterministic. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('stats', () => {
  it('quantiles interpolate between ranks (hand-computed)', () => {
    // positions (n-1)q: 0.75 → 1 + 0.75·(2-1); 2.25 → 3 + 0.25·(4-3)
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25, 12);
    expect(quantileSorted([10, 20], 0.5)).toBe(15);
    expect(quantileSorted([7], 0.9)).toBe(7);
    expect(() => quantileSorted([], 0.5)).toThrow(/no values/);
    expect(() => quantileSorted([1], 1.5)).toThrow(/q must be/);
  });

  it('median of odd and even counts, unsorted input', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('median agrees with a brute-force definition on random arrays', () => {
    const random = lcg(42);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 15);
      const values = Array.from({ length: n }, () => Math.round(random() * 1e6) / 7);
      // Brute force: a middle element has at most floor(n/2) values strictly on each side.
      const middles = values.filter((v) => values.filter((w) => w < v).length <= Math.floor((n - 1) / 2) && values.filter((w) => w > v).length <= Math.floor(n / 2));
      const lower = Math.min(...middles);
      const upper = Math.max(...values.filter((v) => values.filter((w) => w > v).length <= Math.floor((n - 1) / 2) && values.filter((w) => w < v).length <= Math.floor(n / 2)));
      expect(median(values)).toBeCloseTo(n % 2 === 1 ? lower : (lower + upper) / 2, 9);
    }
  });

  it('summarize leaves out non-finite values and reports the range', () => {
    const summary = summarize([5, Number.NaN, 1, 3, Number.POSITIVE_INFINITY, 2, 4]);
    expect(summary).toEqual({ n: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4, relativeSpread: (5 - 1) / 3 });
    expect(summarize([2]).relativeSpread).toBe(0);
    expect(() => summarize([Number.NaN])).toThrow(/no finite values/);
  });
});
