import { describe, expect, it } from 'vitest';
import { createRng, hashString } from './rng.js';

describe('createRng', () => {
  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 20 }, () => a.nextUint32());
    const seqB = Array.from({ length: 20 }, () => b.nextUint32());
    const seqC = Array.from({ length: 20 }, () => c.nextUint32());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('restores state exactly', () => {
    const rng = createRng('checkpoint');
    for (let i = 0; i < 17; i++) rng.next();
    rng.normal();
    const state = rng.getState();
    const after = [rng.next(), rng.normal(), rng.int(0, 1000)];
    const restored = createRng(0);
    restored.setState(state);
    expect([restored.next(), restored.normal(), restored.int(0, 1000)]).toEqual(after);
  });

  it('produces uniform floats in [0, 1) with the right mean and variance', () => {
    const rng = createRng(7);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    // 5-sigma bounds for the sample mean of U(0,1): sd = sqrt(1/12/n)
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('draws integers in range without bias (chi-square on 6 buckets)', () => {
    const rng = createRng(11);
    const counts = [0, 0, 0, 0, 0, 0];
    const n = 60_000;
    for (let i = 0; i < n; i++) counts[rng.int(1, 6) - 1]! += 1;
    const expected = n / 6;
    const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    // chi-square with 5 d.o.f.: P(chi2 > 20.5) ≈ 0.001
    expect(chi2).toBeLessThan(20.5);
  });

  it('samples weighted indices in proportion', () => {
    const rng = createRng(5);
    const counts = [0, 0, 0];
    const n = 50_000;
    for (let i = 0; i < n; i++) counts[rng.weighted([0.2, 0, 0.8])]! += 1;
    expect(counts[1]).toBe(0);
    expect(Math.abs(counts[0]! / n - 0.2)).toBeLessThan(0.01);
  });

  it('normal samples have mean 0 and variance 1', () => {
    const rng = createRng(3);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      sum += x;
      sumSq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.02);
  });

  it('shuffles into a permutation and forks independent streams', () => {
    const rng = createRng(9);
    const items = Array.from({ length: 50 }, (_, i) => i);
    rng.shuffle(items);
    expect([...items].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const before = rng.getState();
    const f1 = rng.fork('a').next();
    expect(rng.getState()).toEqual(before);
    expect(createRng(9).fork('a').next()).toBe(f1);
    expect(rng.fork('b').next()).not.toBe(f1);
  });

  it('rejects bad arguments with RangeError', () => {
    const rng = createRng(1);
    expect(() => rng.int(3, 2)).toThrow(RangeError);
    expect(() => rng.weighted([0, 0])).toThrow(RangeError);
    expect(() => rng.pick([])).toThrow(RangeError);
    expect(() => createRng(Number.NaN)).toThrow(RangeError);
  });

  it('hashes strings with FNV-1a', () => {
    // Known FNV-1a 32-bit values: "" → 0x811c9dc5, "a" → 0xe40c292c.
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
  });
});
