import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { renderSummaryMarkdown, summarizeDataset, summarizeScores } from './summary.js';

const problems = [
  { problemId: 'a', scores: [1, 0, 1, 1, 0, 0, 1, 1], timeouts: 0, errors: 0 },
  { problemId: 'b', scores: [0, 0, 0, 0, 0, 0, 0, 1], timeouts: 1, errors: 0 },
];

describe('summarizeDataset', () => {
  it('reports pass@k for the k that fit, with counts', () => {
    const summary = summarizeDataset({ dataset: 'math500', domain: 'math', mode: 'correct', problems });
    expect(summary.problems).toBe(2);
    expect(summary.samples).toBe(16);
    expect(summary.samplesPerProblem).toEqual({ min: 8, max: 8 });
    expect(summary.passAtK.map((stat) => stat.k)).toEqual([1, 8]); // 32 > 8 samples is skipped
    // pass@1 = mean(5/8, 1/8) = 3/8; pass@8 = mean(1, 1) = 1.
    expect(summary.passAtK[0]?.mean).toBeCloseTo(3 / 8, 14);
    expect(summary.passAtK[1]?.mean).toBe(1);
    expect(summary.timeouts).toBe(1);
  });

  it('refuses an empty dataset', () => {
    expect(() => summarizeDataset({ dataset: 'x', domain: 'math', mode: 'correct', problems: [] })).toThrow(MasaError);
  });
});

describe('summarizeScores and the markdown table', () => {
  it('averages datasets per domain and renders both tables', () => {
    const a = summarizeDataset({ dataset: 'aime2024', domain: 'math', mode: 'correct', problems, ks: [1] });
    const b = summarizeDataset({
      dataset: 'amc23',
      domain: 'math',
      mode: 'correct',
      problems: [{ problemId: 'c', scores: [1, 1], timeouts: 0, errors: 0 }],
      ks: [1],
    });
    const summary = summarizeScores([a, b]);
    expect(summary.domains).toHaveLength(1);
    // (3/8 + 1) / 2
    expect(summary.domains[0]?.passAtK[0]?.mean).toBeCloseTo(11 / 16, 14);
    const markdown = renderSummaryMarkdown(summary);
    expect(markdown).toContain('| aime2024 | math | correct | 2 | 8 | 37.50 ± ');
    expect(markdown).toContain('| amc23 | math | correct | 1 | 2 | 100.00 ± 0.00 |');
    expect(markdown).toContain('| math | aime2024, amc23 | 68.75 |');
  });
});
