import { MasaError, createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { computeAdvantages } from './advantages.js';
import { computeGroupStats } from './group-stats.js';

const EPS = 1e-6;

function expectAll(actual: Float64Array, expected: number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, index) => expect(actual[index]).toBeCloseTo(value, digits));
}

function errorOf(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

describe('computeAdvantages: grpo', () => {
  it('normalises by the group mean and unbiased std plus epsilon', () => {
    // rewards 1,0,0,1: mean 1/2, unbiased variance (4 · 1/4) / 3 = 1/3
    const { advantages } = computeAdvantages({ rewards: [1, 0, 0, 1], uids: ['q', 'q', 'q', 'q'] });
    const up = (1 - 0.5) / (Math.sqrt(1 / 3) + EPS);
    const down = (0 - 0.5) / (Math.sqrt(1 / 3) + EPS);
    expectAll(advantages, [up, down, down, up]);
  });

  it('groups by uid, whatever the order of the rows', () => {
    // group a = [1, 0]: mean 0.5, std sqrt(0.5); group b = [2, 4, 9]: mean 5, std sqrt((9 + 1 + 16) / 2) = sqrt(13)
    const { advantages, groupStats } = computeAdvantages({
      rewards: [1, 2, 0, 4, 9],
      uids: ['a', 'b', 'a', 'b', 'b'],
    });
    expectAll(advantages, [
      (1 - 0.5) / (Math.sqrt(0.5) + EPS),
      (2 - 5) / (Math.sqrt(13) + EPS),
      (0 - 0.5) / (Math.sqrt(0.5) + EPS),
      (4 - 5) / (Math.sqrt(13) + EPS),
      (9 - 5) / (Math.sqrt(13) + EPS),
    ]);
    expect(groupStats.groups.map((group) => group.uid)).toEqual(['a', 'b']);
    expect(Array.from(groupStats.groupOf)).toEqual([0, 1, 0, 1, 1]);
  });

  it('uses mean 0 and std 1 for a group of size 1 (verl)', () => {
    const { advantages } = computeAdvantages({ rewards: [0.7, 1, 0], uids: ['solo', 'pair', 'pair'] });
    expectAll(advantages, [0.7 / (1 + EPS), (1 - 0.5) / (Math.sqrt(0.5) + EPS), (0 - 0.5) / (Math.sqrt(0.5) + EPS)]);
  });

  it('gives 0 to a group whose rewards are all equal', () => {
    const { advantages, groupStats } = computeAdvantages({ rewards: [1, 1, 1, 0, 0], uids: ['a', 'a', 'a', 'b', 'b'] });
    expectAll(advantages, [0, 0, 0, 0, 0]);
    expect(groupStats.groups.every((group) => group.zeroVariance)).toBe(true);
    expect(groupStats.fracRewardZeroStd).toBe(1);
  });

  it('stays ~0 for equal rewards that are not exact binary fractions', () => {
    const { advantages } = computeAdvantages({ rewards: [0.1, 0.1, 0.1], uids: ['a', 'a', 'a'] });
    for (const value of advantages) expect(Math.abs(value)).toBeLessThan(1e-9);
  });

  it('honours a custom epsilon', () => {
    const { advantages } = computeAdvantages({ rewards: [1, 0], uids: ['a', 'a'], epsilon: 0.5 });
    expectAll(advantages, [0.5 / (Math.sqrt(0.5) + 0.5), -0.5 / (Math.sqrt(0.5) + 0.5)]);
  });

  it('sums to ~0 within every group (invariant, seeded random batch)', () => {
    const rng = createRng(6);
    const uids: string[] = [];
    const rewards: number[] = [];
    for (let group = 0; group < 20; group++) {
      const size = rng.int(2, 9);
      for (let k = 0; k < size; k++) {
        uids.push(`g${group}`);
        rewards.push(rng.next() < 0.3 ? rng.normal() : rng.int(0, 1));
      }
    }
    rng.shuffle(uids);
    for (const estimator of ['grpo', 'dr-grpo', 'rloo'] as const) {
      const { advantages, groupStats } = computeAdvantages({ rewards, uids, estimator });
      for (const group of groupStats.groups) {
        const sum = group.indices.reduce((total, i) => total + (advantages[i] as number), 0);
        expect(Math.abs(sum)).toBeLessThan(1e-9);
      }
    }
  });

  it('has unit unbiased std within a non-degenerate group (up to epsilon)', () => {
    const rewards = [0.3, 1.7, -0.4, 2.2, 0.9];
    const { advantages } = computeAdvantages({ rewards, uids: rewards.map(() => 'g'), epsilon: 0 });
    const mean = advantages.reduce((a, b) => a + b, 0) / advantages.length;
    const variance = advantages.reduce((a, b) => a + (b - mean) ** 2, 0) / (advantages.length - 1);
    expect(variance).toBeCloseTo(1, 12);
  });
});

describe('computeAdvantages: dr-grpo and norm_adv_by_std_in_grpo=false', () => {
  it('subtracts the group mean without dividing', () => {
    const expected = [1 - 0.5, 0 - 0.5, 0 - 0.5, 1 - 0.5, 3 - 0];
    const rewards = [1, 0, 0, 1, 3];
    const uids = ['a', 'a', 'a', 'a', 'solo'];
    expectAll(computeAdvantages({ rewards, uids, estimator: 'dr-grpo' }).advantages, expected);
    expectAll(computeAdvantages({ rewards, uids, normAdvByStdInGrpo: false }).advantages, expected);
  });

  it('gives 0 to equal rewards', () => {
    const { advantages } = computeAdvantages({ rewards: [0.5, 0.5, 0.5], uids: ['a', 'a', 'a'], estimator: 'dr-grpo' });
    expectAll(advantages, [0, 0, 0]);
  });

  it('rejects dr-grpo with normAdvByStdInGrpo true', () => {
    const error = errorOf(() =>
      computeAdvantages({ rewards: [1], uids: ['a'], estimator: 'dr-grpo', normAdvByStdInGrpo: true }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
  });
});

describe('computeAdvantages: rloo', () => {
  it('subtracts the mean of the other group members', () => {
    const { advantages } = computeAdvantages({
      rewards: [1, 0, 0, 1, 2, 4, 9],
      uids: ['a', 'a', 'a', 'a', 'b', 'b', 'b'],
      estimator: 'rloo',
    });
    expectAll(advantages, [
      1 - (0 + 0 + 1) / 3,
      0 - (1 + 0 + 1) / 3,
      0 - (1 + 0 + 1) / 3,
      1 - (1 + 0 + 0) / 3,
      2 - (4 + 9) / 2,
      4 - (2 + 9) / 2,
      9 - (2 + 4) / 2,
    ]);
  });

  it('keeps the raw reward for a group of size 1 (verl)', () => {
    expectAll(computeAdvantages({ rewards: [0.25], uids: ['x'], estimator: 'rloo' }).advantages, [0.25]);
  });

  it('gives 0 to equal rewards', () => {
    expectAll(computeAdvantages({ rewards: [1, 1, 1], uids: ['a', 'a', 'a'], estimator: 'rloo' }).advantages, [0, 0, 0]);
  });
});

describe('computeAdvantages: bad input', () => {
  it('rejects an empty batch (no GRPO group)', () => {
    expect(errorOf(() => computeAdvantages({ rewards: [], uids: [] })).code).toBe('ARGUMENT_INVALID');
  });

  it('rejects mismatched rewards and uids', () => {
    const error = errorOf(() => computeAdvantages({ rewards: [1, 0], uids: ['a'] }));
    expect(error.code).toBe('ARGUMENT_INVALID');
    expect(error.message).toContain('one uid per sequence');
  });

  it('rejects a non-finite reward with its index, uid and the step', () => {
    const error = errorOf(() =>
      computeAdvantages({ rewards: [1, Number.NaN], uids: ['a', 'b'], context: { step: 7 } }),
    );
    expect(error.code).toBe('NUMERIC_INSTABILITY');
    expect(error.message).toContain('rewards[1]');
    expect(error.message).toContain('uid b');
    expect(error.message).toContain('step 7');
  });

  it('rejects an unknown estimator and a negative epsilon', () => {
    const badEstimator = { rewards: [1], uids: ['a'], estimator: 'ppo' } as unknown as Parameters<
      typeof computeAdvantages
    >[0];
    expect(errorOf(() => computeAdvantages(badEstimator)).code).toBe('CONFIG_INVALID');
    expect(errorOf(() => computeAdvantages({ rewards: [1], uids: ['a'], epsilon: -1 })).code).toBe('CONFIG_INVALID');
  });
});

describe('computeGroupStats', () => {
  it('reports mean, unbiased std, min, max and the zero-variance fraction', () => {
    const { groups, fracRewardZeroStd } = computeGroupStats({
      rewards: [1, 1, 0, 1, 5],
      uids: ['same', 'same', 'mixed', 'mixed', 'solo'],
    });
    expect(groups.map((group) => group.size)).toEqual([2, 2, 1]);
    const [same, mixed, solo] = groups;
    expect(same).toMatchObject({ mean: 1, std: 0, min: 1, max: 1, zeroVariance: true });
    expect(mixed?.mean).toBe(0.5);
    expect(mixed?.std).toBeCloseTo(Math.sqrt((0.25 + 0.25) / (2 - 1)), 14);
    expect(mixed?.zeroVariance).toBe(false);
    // a singleton is never flagged (verl's DAPO filter keeps it; GRPO gives it advantage r)
    expect(solo).toMatchObject({ mean: 5, std: 0, zeroVariance: false });
    expect(fracRewardZeroStd).toBeCloseTo(1 / 3, 14);
  });

  it('flags a group within the tolerance only', () => {
    const rewards = [0.5, 0.5 + 1e-9, 0.5, 0.6];
    const uids = ['a', 'a', 'b', 'b'];
    const { groups } = computeGroupStats({ rewards, uids });
    expect(groups.map((group) => group.zeroVariance)).toEqual([true, false]);
    const strict = computeGroupStats({ rewards, uids, zeroStdTolerance: 0 });
    expect(strict.groups.map((group) => group.zeroVariance)).toEqual([false, false]);
  });

  it('matches a brute-force unbiased std on random groups', () => {
    const rng = createRng(11);
    const rewards = Array.from({ length: 40 }, () => rng.normal() * 3);
    const uids = rewards.map((_, i) => `g${i % 7}`);
    const { groups } = computeGroupStats({ rewards, uids });
    for (const group of groups) {
      const values = group.indices.map((i) => rewards[i] as number);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const brute = Math.sqrt(values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (values.length - 1));
      expect(group.std).toBeCloseTo(brute, 12);
      expect(group.min).toBe(Math.min(...values));
      expect(group.max).toBe(Math.max(...values));
    }
  });
});
