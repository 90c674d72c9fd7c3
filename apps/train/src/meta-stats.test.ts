import type { FinishReason } from '@masa-rl/core';
import { resolveConfig, type CollectedStep, type RolloutGroup } from '@masa-rl/trainer';
import { describe, expect, it } from 'vitest';
import { computeMetaStats } from './meta-stats.js';

const config = resolveConfig({
  overrides: ['data.train_files=x', 'actor_rollout_ref.rollout.n=4', 'masa.meta_n=2', 'data.max_response_length=100'],
  algo: 'masa-efficient',
});

function group(uid: string, branch: 'solution' | 'meta', question: string, samples: Array<{ text?: string; acc?: number; tokens?: number; finish?: FinishReason }>): RolloutGroup {
  return {
    uid,
    branch,
    problemIndex: 0,
    problem: { id: `id-${question}`, question, answer: '7' },
    dataset: 'toy',
    records: samples.map((sample) => ({
      promptTokenIds: [1, 2],
      responseTokenIds: Array.from({ length: sample.tokens ?? (sample.text ?? '').length }, () => 5),
      text: sample.text ?? 'x',
      finishReason: sample.finish ?? 'stop',
      samplingLogprobs: [],
      reward: { score: sample.acc ?? 0, acc: sample.acc ?? 0, extra: {} },
    })),
  };
}

const meta = (passRate: number, length: number): { text: string } => ({
  text: `{"math_notion": ["addition"], "pass_rate": ${passRate}, "solution_length": ${length}}`,
});

describe('computeMetaStats', () => {
  it('calibration, length error, shadow gating and accuracy match a hand computation (calibration phase)', () => {
    const collected: CollectedStep = {
      epoch: 0,
      exhausted: false,
      metrics: { 'masa/phase': 0 },
      groups: [
        group('s1r1p0', 'solution', 'A', [{ acc: 1, tokens: 10 }, { acc: 1, tokens: 20 }, { acc: 0, tokens: 30 }, { acc: 0, tokens: 50 }]),
        group('s1r1p1', 'solution', 'B', [{ acc: 1, tokens: 8 }, { acc: 1, tokens: 8 }, { acc: 1, tokens: 8 }, { acc: 1, tokens: 8 }]),
        group('s1r1p0_meta_cog', 'meta', 'A', [meta(4, 12), meta(6, 18)]),
        group('s1r1p1_meta_cog', 'meta', 'B', [meta(8, 8), meta(8, 10)]),
      ],
    };
    const stats = computeMetaStats({ step: 1, collected, config });
    expect(stats.accuracy).toBeCloseTo(6 / 8, 12);
    expect(stats.questions).toBe(2);
    // pairs (p̂, p): (0.5, 0.5), (0.75, 0.5), (1, 1), (1, 1)
    expect(stats.calibration?.mae).toBeCloseTo(0.25 / 4, 12);
    expect(stats.calibration?.bias).toBeCloseTo(0.25 / 4, 12);
    expect(stats.calibration?.pearson).toBeCloseTo(0.1875 / Math.sqrt(0.171875 * 0.25), 10);
    expect(stats.calibration?.bins.map((bin) => bin.count)).toEqual([0, 0, 0, 0, 1, 0, 1, 0, 2]);
    expect(stats.calibration?.bins[8]?.meanTrue).toBe(1);
    expect(stats.calibration?.bins[6]?.meanTrue).toBe(0.5);
    // A: predicted 12, 18 (mean 15, std 3); correct mean 15 → 0, incorrect mean 40 → 25/3. B: predicted 8, 10 (mean 9, std 1); correct 8 → −1.
    expect(stats.length?.standardizedCorrect).toBeCloseTo((0 + -1) / 2, 12);
    expect(stats.length?.standardizedIncorrect).toBeCloseTo(25 / 3, 12);
    expect(stats.length?.meanAbsErrorTokens).toBeCloseTo((0 + 1) / 2, 12);
    // Shadow gate: A has std 0.125 > 0.1 (kept, truly mixed: TN); B predicts 8/8 twice (gated, truly all right: TP).
    expect(stats.gating).toEqual({ mode: 'shadow', gated: 1, questions: 2, precision: 1, recall: 1, f1: 1 });
    expect(stats.tokens).toEqual({ solution: 10 + 20 + 30 + 50 + 32, gatingSaved: 0, cutoffSaved: 0, saved: 0 });
    expect(stats.examples).toHaveLength(2);
    expect(stats.examples[0]?.question).toBe('A');
    expect(stats.examples[0]?.meta.map((m) => [m.passCount, m.solutionLength])).toEqual([[4, 12], [6, 18]]);
    expect(stats.examples[0]?.solutions.map((s) => s.correct)).toEqual([true, true, false, false]);
  });

  it('counts tokens saved by gating and by the cutoff in the efficient phase (live gating has no precision)', () => {
    const collected: CollectedStep = {
      epoch: 0,
      exhausted: false,
      metrics: { 'masa/phase': 1, 'masa/gated_questions': 3 },
      groups: [
        group('s9r1p0', 'solution', 'C', [
          { acc: 1, tokens: 10 },
          { acc: 0, tokens: 30, finish: 'cutoff' },
          { acc: 0, tokens: 20, finish: 'cutoff' },
          { acc: 1, tokens: 40 },
        ]),
        group('s9r1p0_meta_cog', 'meta', 'C', [meta(4, 20), meta(5, 25)]),
      ],
    };
    const stats = computeMetaStats({ step: 9, collected, config });
    // 3 gated questions × n = 4 rollouts × mean 25 tokens; cutoff: (100 − 30) + (100 − 20).
    expect(stats.tokens).toEqual({ solution: 100, gatingSaved: 300, cutoffSaved: 150, saved: 450 });
    expect(stats.gating).toEqual({ mode: 'live', gated: 3, questions: 4, precision: null, recall: null, f1: null });
  });

  it('has no meta sections for GRPO steps and truncates long example texts', () => {
    const collected: CollectedStep = {
      epoch: 0,
      exhausted: false,
      metrics: {},
      groups: [group('s1r1p0', 'solution', 'Q'.repeat(50), [{ acc: 1, text: 'y'.repeat(30) }, { acc: 0, text: 'n' }])],
    };
    const stats = computeMetaStats({ step: 1, collected, config, maxTextChars: 10 });
    expect(stats.accuracy).toBe(0.5);
    expect(stats.calibration).toBeNull();
    expect(stats.length).toBeNull();
    expect(stats.gating).toBeNull();
    expect(stats.examples[0]?.question).toBe(`${'Q'.repeat(10)}…`);
    expect(stats.examples[0]?.solutions[0]?.text).toBe(`${'y'.repeat(10)}…`);
    expect(stats.examples[0]?.meta).toEqual([]);
  });
});
