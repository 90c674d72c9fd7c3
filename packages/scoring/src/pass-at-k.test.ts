/**
 * pass@k against two independent computations (issue 2, acceptance 7):
 * brute-force enumeration of every k-subset for small n, and exact BigInt
 * binomials up to n = 1,024.
 */
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { passAtK, passAtKStat } from './pass-at-k.js';

/** Fraction of k-subsets of n samples (the first c correct) that contain a correct sample. */
function bruteForce(n: number, c: number, k: number): number {
  let total = 0;
  let hit = 0;
  const walk = (start: number, chosen: number, anyCorrect: boolean): void => {
    if (chosen === k) {
      total++;
      if (anyCorrect) hit++;
      return;
    }
    for (let i = start; i <= n - (k - chosen); i++) walk(i + 1, chosen + 1, anyCorrect || i < c);
  };
  walk(0, 0, false);
  return hit / total;
}

function binomial(n: bigint, k: bigint): bigint {
  if (k < 0n || k > n) return 0n;
  let result = 1n;
  for (let j = 1n; j <= k; j++) result = (result * (n - k + j)) / j;
  return result;
}

/** 1 − C(n−c,k)/C(n,k) in exact integers, rounded to a double only at the end. */
function exactPassAtK(n: number, c: number, k: number): number {
  const num = binomial(BigInt(n - c), BigInt(k));
  const den = binomial(BigInt(n), BigInt(k));
  const scale = 1n << 200n;
  const failScaled = (num * scale) / den; // floor(fail * 2^200)
  return 1 - Number(failScaled) / 2 ** 200;
}

describe('passAtK', () => {
  it('matches brute-force enumeration of all k-subsets for n ≤ 10', () => {
    for (let n = 1; n <= 10; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) {
          expect(passAtK(n, c, k)).toBeCloseTo(bruteForce(n, c, k), 12);
        }
      }
    }
  });

  it('has the closed forms pass@1 = c/n and pass@n = [c > 0]', () => {
    expect(passAtK(32, 7, 1)).toBeCloseTo(7 / 32, 14);
    expect(passAtK(32, 0, 32)).toBe(0);
    expect(passAtK(32, 1, 32)).toBe(1);
    expect(passAtK(32, 32, 8)).toBe(1);
  });

  it('matches exact BigInt binomials at n = 1,024 and stays finite', () => {
    const n = 1024;
    for (const c of [0, 1, 2, 3, 10, 100, 511, 512, 1000, 1023, 1024]) {
      for (const k of [1, 2, 8, 32, 100, 512, 1000, 1024]) {
        const value = passAtK(n, c, k);
        expect(Number.isFinite(value)).toBe(true);
        const exact = exactPassAtK(n, c, k);
        expect(Math.abs(value - exact)).toBeLessThanOrEqual(1e-12);
      }
    }
  });

  it('rejects impossible arguments with ARGUMENT_INVALID', () => {
    for (const [n, c, k] of [
      [4, 5, 1],
      [4, 2, 0],
      [4, 2, 5],
      [0, 0, 1],
      [4, -1, 1],
      [4.5, 1, 1],
    ] as const) {
      try {
        passAtK(n, c, k);
        expect.unreachable();
      } catch (error: unknown) {
        expect(MasaError.hasCode(error, 'ARGUMENT_INVALID')).toBe(true);
      }
    }
  });
});

describe('passAtKStat', () => {
  // Three problems, four samples each.
  const scores = [
    [1, 0, 0, 1],
    [0, 0, 0, 0],
    [1, 1, 1, 1],
  ];

  it('averages the estimator over problems', () => {
    // pass@1 = mean(2/4, 0, 1) = 0.5; pass@2 = mean(1 − C(2,2)/C(4,2), 0, 1) = mean(5/6, 0, 1).
    expect(passAtKStat(scores, 1).mean).toBeCloseTo(0.5, 14);
    expect(passAtKStat(scores, 2).mean).toBeCloseTo((5 / 6 + 0 + 1) / 3, 14);
  });

  it('takes the std across runs: sample j for pass@1, blocks of k for pass@k', () => {
    // Runs for pass@1: columns → accuracies 2/3, 1/3, 1/3, 2/3; mean 1/2; sample variance = 4·(1/6)²/3 = 1/27.
    const one = passAtKStat(scores, 1);
    expect(one.runs).toBe(4);
    expect(one.std).toBeCloseTo(Math.sqrt(1 / 27), 12);
    // Blocks of 2: [1,0]/[0,0]/[1,1] → 2/3; [0,1]/[0,0]/[1,1] → 2/3; std 0.
    const two = passAtKStat(scores, 2);
    expect(two.runs).toBe(2);
    expect(two.std).toBe(0);
    // One block of 4: no std.
    expect(passAtKStat(scores, 4).std).toBeNull();
  });
});
