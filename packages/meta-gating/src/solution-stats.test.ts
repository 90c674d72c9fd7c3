import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { computeSolutionStats, type SolutionRollout } from './solution-stats.js';

describe('computeSolutionStats', () => {
  it('computes pass rate and correct/incorrect lengths (hand counts)', () => {
    const rollouts: SolutionRollout[] = [
      { text: 'a', score: 1, length: 40 },
      { text: 'b', score: 0, length: 100 },
      { text: 'c', score: 1, length: 70 },
      { text: 'd', score: 0, length: 50 },
      { text: 'e', score: 1, length: 61 },
    ];
    const stats = computeSolutionStats({ rollouts });
    expect(stats).toMatchObject({
      count: 5,
      correctCount: 3,
      passRate: 0.6,
      zeroVariance: false,
      correctLengths: [40, 70, 61],
      incorrectLengths: [100, 50],
      minCorrectLength: 40,
      maxCorrectLength: 70,
      meanCorrectLength: 57, // (40 + 70 + 61) / 3
      meanIncorrectLength: 75, // (100 + 50) / 2
      meanLength: 64.2, // 321 / 5
    });
  });

  it('flags zero-variance groups and leaves undefined means null', () => {
    const wrong = computeSolutionStats({ rollouts: [{ text: '', score: 0, length: 8 }, { text: '', score: 0, length: 10 }] });
    expect(wrong).toMatchObject({ passRate: 0, zeroVariance: true, minCorrectLength: null, maxCorrectLength: null, meanCorrectLength: null, meanIncorrectLength: 9 });
    const right = computeSolutionStats({ rollouts: [{ text: '', score: 1, length: 8 }] });
    expect(right).toMatchObject({ passRate: 1, zeroVariance: true, meanIncorrectLength: null, minCorrectLength: 8, maxCorrectLength: 8 });
  });

  it('rejects empty groups, non-binary scores and bad lengths with ARGUMENT_INVALID', () => {
    const cases: unknown[] = [
      [],
      [{ text: '', score: 0.5, length: 1 }],
      [{ text: '', score: 1, length: -1 }],
      [{ text: '', score: 1, length: Number.NaN }],
      [{ text: 3, score: 1, length: 1 }],
    ];
    for (const rollouts of cases) {
      let caught: unknown;
      try {
        computeSolutionStats({ rollouts: rollouts as SolutionRollout[] });
      } catch (error: unknown) {
        caught = error;
      }
      expect(MasaError.hasCode(caught, 'ARGUMENT_INVALID'), JSON.stringify(rollouts)).toBe(true);
    }
  });
});
