import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createExpertBuffer, roundHalfEven, selectExpertMetaTrajectory, truePassCount, type ExpertCandidate } from './expert-selection.js';
import { parseMetaPrediction } from './meta-prediction.js';
import { computeSolutionStats, type SolutionStats } from './solution-stats.js';

/** G rollouts, the first `correct` of them right, with the given correct lengths and wrong length 200. */
function statsOf(count: number, correctLengths: number[], wrongLength = 200): SolutionStats {
  const rollouts = Array.from({ length: count }, (_, index) => {
    const length = correctLengths[index];
    return length === undefined ? { text: 'x', score: 0, length: wrongLength } : { text: 'x', score: 1, length };
  });
  return computeSolutionStats({ rollouts });
}

function candidate(text: string, score: number, notionScore: number): ExpertCandidate {
  return { parsed: parseMetaPrediction(text), reward: { score, notionScore } };
}

const META = (notions: string) => `<meta>Two carries.</meta>{"math_notion": ${notions}, "pass_rate": 6, "solution_length": 40}`;

describe('selectExpertMetaTrajectory', () => {
  const candidates = [
    candidate(META('["a"]'), 0.5, 0),
    candidate(META('["carry", "borrow"]'), 0.7, 0.3),
    candidate(META('["c"]'), 0.7, 0.9),
    candidate('unparseable', 0.9, 1),
  ];
  // G = 16, five correct: p = 5/16, 8p = 2.5 → 2 (half to even); mean correct length 535/5 = 107.
  const stats = statsOf(16, [100, 101, 103, 110, 121]);

  it('picks the highest total reward among parsed candidates (first wins ties) and writes the true statistics', () => {
    const result = selectExpertMetaTrajectory({ candidates, stats });
    expect(result.selected).not.toBeNull();
    if (result.selected === null) return;
    expect(result.selected).toEqual({
      index: 1,
      target: '<meta>Two carries.</meta>\n{"math_notion": ["carry", "borrow"], "pass_rate": 2, "solution_length": 107}',
      passRate: 2,
      solutionLength: 107,
      notions: ['carry', 'borrow'],
    });
    // The target is in the prompt's own format: the reference extractor reads it, with integer fields.
    const reread = parseMetaPrediction(result.selected.target, { mode: 'parity' });
    expect(reread).toMatchObject({ ok: true, intKeys: ['pass_rate', 'solution_length'], metaReasoning: 'Two carries.' });
  });

  it('ranks by notion score with the reference threshold 0.2', () => {
    const result = selectExpertMetaTrajectory({ candidates, stats, rankBy: 'notion-score', minNotionScore: 0.2 });
    expect(result.selected?.index).toBe(2);
    // Threshold first, then the highest total among the rest.
    expect(selectExpertMetaTrajectory({ candidates, stats, minNotionScore: 0.5 }).selected?.index).toBe(2);
  });

  it('reports why nothing was selected', () => {
    expect(selectExpertMetaTrajectory({ candidates, stats, minNotionScore: 0.95 })).toEqual({ selected: null, reason: 'below-notion-threshold' });
    expect(selectExpertMetaTrajectory({ candidates: [candidate('no', 1, 1)], stats })).toEqual({ selected: null, reason: 'no-parsed-candidate' });
    const allWrong = statsOf(4, [], 55);
    expect(selectExpertMetaTrajectory({ candidates, stats: allWrong, whenNoneCorrect: 'skip' })).toEqual({ selected: null, reason: 'no-correct-rollout' });
  });

  it('with no correct rollout, uses the rounded mean of all lengths and pass_rate 0', () => {
    // Lengths 50 and 61: mean 55.5 → 56 (half to even).
    const allWrong = computeSolutionStats({ rollouts: [{ text: '', score: 0, length: 50 }, { text: '', score: 0, length: 61 }] });
    const result = selectExpertMetaTrajectory({ candidates, stats: allWrong });
    expect(result.selected).toMatchObject({ passRate: 0, solutionLength: 56 });
  });

  it('writes an empty notion list when the notions are unusable, and a comma string as a list', () => {
    const unusable = selectExpertMetaTrajectory({ candidates: [candidate(META('null'), 1, 0)], stats });
    expect(unusable.selected?.target.endsWith('{"math_notion": [], "pass_rate": 2, "solution_length": 107}')).toBe(true);
    const commaString = selectExpertMetaTrajectory({ candidates: [candidate(META('"carry, borrow"'), 1, 0)], stats });
    expect(commaString.selected?.notions).toEqual(['carry', 'borrow']);
    const quoted = selectExpertMetaTrajectory({ candidates: [candidate(META('["say \\"hi\\""]'), 1, 0)], stats });
    expect(quoted.selected?.target).toContain('["say \\"hi\\""]');
  });

  it('rejects bad options with CONFIG_INVALID', () => {
    for (const options of [{ minNotionScore: 2 }, { passRateScale: 0 }, { passRateScale: 7.5 }]) {
      let caught: unknown;
      try {
        selectExpertMetaTrajectory({ candidates, stats, ...options });
      } catch (error: unknown) {
        caught = error;
      }
      expect(MasaError.hasCode(caught, 'CONFIG_INVALID')).toBe(true);
    }
  });
});

describe('truePassCount and roundHalfEven', () => {
  it('rounds half to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, 107.5, 106.5, 7].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3, 108, 106, 7]);
  });

  it('keeps 0 and 8 for zero-variance groups only', () => {
    // G = 16: k → 8k/16 = k/2
    const counts = [0, 1, 3, 5, 7, 15, 16].map((k) => truePassCount(statsOf(16, Array.from({ length: k }, () => 10))));
    expect(counts).toEqual([0, 1, 2, 2, 4, 7, 8]);
    // G = 32, one correct: 8/32 = 0.25 would round to 0 but the group is mixed.
    expect(truePassCount(statsOf(32, [10]))).toBe(1);
    expect(truePassCount(statsOf(4, [10, 10]), 16)).toBe(8);
  });
});

describe('createExpertBuffer', () => {
  it('yields a batch of exactly S once S examples are waiting and carries the rest over', () => {
    const buffer = createExpertBuffer<string>({ batchSize: 3 });
    buffer.add(['a', 'b']);
    expect(buffer.takeBatch()).toBeNull();
    buffer.add(['c', 'd']);
    expect(buffer.size).toBe(4);
    expect(buffer.takeBatch()).toEqual(['a', 'b', 'c']);
    expect(buffer.takeBatch()).toBeNull();
    expect(buffer.pending()).toEqual(['d']);
    buffer.add(['e', 'f', 'g', 'h', 'i']);
    expect(buffer.takeBatch()).toEqual(['d', 'e', 'f']);
    expect(buffer.takeBatch()).toEqual(['g', 'h', 'i']);
    expect(buffer.size).toBe(0);
  });

  it('restores from a checkpoint and clears at an epoch start', () => {
    const buffer = createExpertBuffer({ batchSize: 2, initial: [1, 2, 3] });
    expect(buffer.takeBatch()).toEqual([1, 2]);
    buffer.clear();
    expect(buffer.size).toBe(0);
    expect(buffer.batchSize).toBe(2);
  });

  it('needs a positive integer batch size', () => {
    expect(() => createExpertBuffer({ batchSize: 0 })).toThrow(MasaError);
  });
});
