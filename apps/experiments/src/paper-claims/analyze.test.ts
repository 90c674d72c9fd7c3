import { describe, expect, it } from 'vitest';
import { analyzePaperClaims, type PaperClaimsLog } from './analyze.js';
import { budget, log, meta, point, run } from './__tests__/hand-log.js';

describe('analyzePaperClaims on a hand-made log', () => {
  const analysis = analyzePaperClaims(log);

  it('draws GRPO\'s mean final accuracy as the curves\' reference level', () => {
    expect(analysis.target).toBeCloseTo(0.52, 12);
  });

  it('averages curves over seeds with the lowest and highest seed as the band', () => {
    const grpo = analysis.methods.find((summary) => summary.method === 'grpo');
    expect(grpo?.curve.map((p) => [p.step, p.trainSeconds, p.accuracy, p.low, p.high])).toEqual([
      [0, 0, 0.4, 0.4, 0.4],
      [2, 21, 0.45, 0.44, 0.46],
      [4, 42, 0.52, 0.5, 0.54],
    ]);
    expect(grpo?.curve[1]?.accuracy).toBeCloseTo(0.45, 12);
  });

  it('pairs final accuracy with GRPO by seed', () => {
    const masa = analysis.versusGrpo.find((entry) => entry.method === 'masa')?.difference;
    // diffs 0.06 and 0.04: mean 0.05, sd 0.01·√2, half-width 12.706 · 0.01·√2 / √2.
    expect(masa?.mean).toBeCloseTo(0.05, 12);
    expect((masa?.high ?? 0) - (masa?.mean ?? 0)).toBeCloseTo(0.12706, 10);
  });

  it('times GRPO and each method to GRPO\'s final accuracy of the same seed, by interpolation', () => {
    const grpo = analysis.reach.find((entry) => entry.method === 'grpo');
    // GRPO against itself: the same times on both sides, a speed-up of exactly 1.
    expect(grpo?.grpoSeconds).toEqual([40, 44]);
    expect(grpo?.seconds).toEqual([40, 44]);
    expect([grpo?.speedupSeconds.estimate, grpo?.speedupSeconds.low, grpo?.speedupSeconds.high]).toEqual([1, 1, 1]);
    const masa = analysis.reach.find((entry) => entry.method === 'masa');
    expect(masa?.targets).toEqual([0.5, 0.54]);
    // Seed 1: 0.50 from (0 s, 0.40) to (40 s, 0.50) → 40 s. Seed 2: 0.54 from (42 s, 0.52) to (84 s, 0.58) → 42 + 42/3 = 56 s.
    expect(masa?.seconds[0]).toBeCloseTo(40, 10);
    expect(masa?.seconds[1]).toBeCloseTo(56, 10);
    expect(masa?.tokens[1]).toBeCloseTo(3100 + 3100 / 3, 10);
    expect(masa?.speedupSeconds.estimate).toBeCloseTo(42 / 48, 10);
    const efficient = analysis.reach.find((entry) => entry.method === 'masa-efficient');
    // Seed 1 reaches 0.50 at its last evaluation (60 s); seed 2 never reaches 0.54.
    expect(efficient?.seconds).toEqual([60, null]);
    expect(efficient?.speedupSeconds.estimate).toBe(0);
    expect(analysis.reach.map((entry) => entry.method)).toEqual(['grpo', 'masa', 'masa-efficient']);
  });

  it('sums gating and cutoff counts over the steps after calibration', () => {
    const shadow = analysis.gating.shadow;
    // 2 seeds × steps 2–4 = 6 steps: TP 24, FP 6, FN 12.
    expect(shadow).toMatchObject({ tp: 24, fp: 6, fn: 12, tn: 54, questions: 96, gated: 30 });
    expect(shadow?.precision).toBeCloseTo(0.8, 12);
    expect(shadow?.recall).toBeCloseTo(24 / 36, 12);
    const configured = { factor: 2, cutCorrect: 6, cutIncorrect: 24, tokensCorrect: 60, tokensIncorrect: 540 };
    expect(analysis.cutoff.shadow).toEqual({
      ...configured,
      rolloutsCorrect: 360,
      rolloutsIncorrect: 408,
      sweep: [{ factor: 1.5, cutCorrect: 12, cutIncorrect: 48, tokensCorrect: 120, tokensIncorrect: 1200 }, configured],
    });
  });

  it('lists each ablation next to the main run of its seed as the default', () => {
    expect(analysis.ablations.map((row) => [row.key, row.value, row.isDefault, row.runId])).toEqual([
      ['meta_n', 4, false, 'masa-efficient-meta_n-4'],
      ['meta_n', 8, true, 'masa-efficient-s1'],
    ]);
    const [ablated, defaults] = analysis.ablations;
    expect(ablated).toMatchObject({ finalAccuracy: 0.49, gatedFraction: 0.5, auditedPrecision: 0.75, finalMetaMae: 1.6 });
    expect(defaults).toMatchObject({ gatedFraction: 0.25, tokensSaved: 400, cutoffRollouts: 6, auditedPrecision: 1 });
  });

  it('judges each claim by its stated rule', () => {
    const verdict = (id: string) => analysis.claims.find((claim) => claim.id === id)?.verdict;
    expect(verdict('accuracy')).toBe('not resolved'); // the interval (−0.077, 0.177) spans 0
    expect(verdict('speedup')).toBe('not resolved'); // fewer than 3 seeds
    expect(verdict('gating')).toBe('does not hold'); // precision 0.8 < 0.85
    expect(verdict('cutoff')).toBe('holds'); // at l_LC 2 (30 cut): 90% of the tokens from incorrect rollouts, cut 5.9% vs 1.7%
    // MAE MASA − GRPO: 1.5 − 1.8 and 1.4 − 1.6 → −0.25 ± 12.706 · 0.0707 / √2: spans 0.
    expect(verdict('alignment')).toBe('not resolved');
  });

  it('judges the cutoff at the loosest factor that cuts at least 10 rollouts when the configured one cuts fewer', () => {
    const fewCuts: PaperClaimsLog = {
      ...log,
      runs: log.runs.map((r) =>
        r.spec.method !== 'masa'
          ? r
          : { ...r, steps: r.steps.map((step) => ({ ...step, metrics: { ...step.metrics, 'cutoff/shadow/cut_correct': 0, 'cutoff/shadow/cut_incorrect': 1, 'cutoff/shadow/l=1.5/cut_correct': 6 } })) },
      ),
    };
    const claim = analyzePaperClaims(fewCuts).claims.find((c) => c.id === 'cutoff');
    // At l_LC 1.5: 36 correct cut of 360 (10%) vs 48 of 408 incorrect (11.8%); 1200 of 1320 tokens from incorrect.
    expect(claim?.verdict).toBe('holds');
    expect(claim?.evidence).toContain('judged at l_LC 1.5');
    expect(claim?.evidence).toContain('90.9%');
  });

  it('calls a claim resolved only when the seeds agree', () => {
    const strong: PaperClaimsLog = {
      ...log,
      budget: { ...budget, seeds: [1, 2, 3] },
      runs: [1, 2, 3].flatMap((seed) => [
        run('grpo', seed, [point(2, 20, 1000, 0.45), point(4, 40, 2000, 0.5 + 0.01 * seed, meta(1.8, 1.7))]),
        run('masa', seed, [point(2, 20, 1000, 0.55), point(4, 40, 2000, 0.6 + 0.01 * seed, meta(1.2 + 0.01 * seed, 1.7))]),
      ]),
    };
    const judged = analyzePaperClaims(strong);
    expect(judged.claims.find((claim) => claim.id === 'accuracy')?.verdict).toBe('holds'); // +10 points every seed
    expect(judged.claims.find((claim) => claim.id === 'alignment')?.verdict).toBe('holds'); // MAE −0.6 + 0.01·seed, below 0, and beyond the heuristic's drift
  });

  it('refuses a log without GRPO', () => {
    expect(() => analyzePaperClaims({ ...log, runs: log.runs.filter((r) => r.spec.method !== 'grpo') })).toThrow(/GRPO/);
  });
});
