/** A hand-made experiment log (2 seeds, every kind of run) for the analysis, figure and report tests. */
import type { PaperClaimsLog } from '../analyze.js';
import type { MethodName, PaperClaimsBudget, RunSpec } from '../plan.js';
import type { EvalPoint, RunResult, StepLog } from '../run.js';

export const budget: PaperClaimsBudget = {
  name: 'test',
  seeds: [1, 2],
  steps: 4,
  evalEvery: 2,
  evalProblems: 10,
  evalSamples: 4,
  finalSamples: 8,
  calibrationSteps: 1,
  sftSteps: 10,
  ablations: [{ key: 'meta_n', values: [4] }],
  ablationSeed: 1,
};

type Meta = NonNullable<EvalPoint['meta']>;
export const meta = (passRateMae: number, heuristicMae: number): Meta => ({ parseRate: 1, passRateMae, passRateCorrelation: 0.5, heuristicMae, constantMae: 2, meanReward: 0.3 });
export const point = (step: number, trainSeconds: number, rolloutTokens: number, accuracy: number, metaResult: Meta | null = null): EvalPoint => ({
  step,
  trainSeconds,
  rolloutTokens,
  accuracy,
  problems: 10,
  samples: metaResult === null ? 4 : 8,
  greedyAccuracy: metaResult === null ? null : accuracy,
  meta: metaResult,
  passCountHistogram: [],
  evalSeconds: 1,
});
export const base = point(0, 0, 0, 0.4, meta(2.0, 1.9));

/** Steps 1..4 with the given metrics each (the same every step unless `perStep` says otherwise). */
export const steps = (metrics: Record<string, number>, perStep: (step: number) => Record<string, number> = () => ({})): StepLog[] =>
  [1, 2, 3, 4].map((step) => ({ step, seconds: 10, rolloutTokens: 500, metrics: { ...metrics, ...perStep(step) } }));

export function run(method: MethodName, seed: number, evals: EvalPoint[], stepLogs: StepLog[] = steps({}), ablation?: RunSpec['ablation']): RunResult {
  const last = evals[evals.length - 1] as EvalPoint;
  return {
    spec: {
      id: ablation === undefined ? `${method}-s${seed}` : `${method}-${ablation.key}-${ablation.value}`,
      group: ablation === undefined ? 'main' : 'ablation',
      method,
      seed,
      steps: 4,
      evalSteps: [2, 4],
      overrides: [],
      ...(ablation === undefined ? {} : { ablation }),
    },
    steps: stepLogs,
    evals: [base, ...evals],
    totals: { trainSeconds: last.trainSeconds, rolloutTokens: last.rolloutTokens, steps: 4 },
    load: { start: 1, end: 1 },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
  };
}

// Gating counts: step 1 is calibration (left out), steps 2–4 count.
export const shadowStep = (step: number): Record<string, number> =>
  step === 1
    ? { 'gating/true_positives': 100, 'gating/false_positives': 100, 'gating/questions': 16, 'gating/gated': 16, 'cutoff/shadow/cut_correct': 50 }
    : {
        'gating/true_positives': 4,
        'gating/false_positives': 1,
        'gating/false_negatives': 2,
        'gating/true_negatives': 9,
        'gating/questions': 16,
        'gating/gated': 5,
        'cutoff/shadow/rollouts_correct': 60,
        'cutoff/shadow/rollouts_incorrect': 68,
        'cutoff/shadow/cut_correct': 1,
        'cutoff/shadow/cut_incorrect': 4,
        'cutoff/shadow/tokens_correct': 10,
        'cutoff/shadow/tokens_incorrect': 90,
        'cutoff/shadow/l=1.5/cut_correct': 2,
        'cutoff/shadow/l=1.5/cut_incorrect': 8,
        'cutoff/shadow/l=1.5/tokens_correct': 20,
        'cutoff/shadow/l=1.5/tokens_incorrect': 200,
      };

export const log: PaperClaimsLog = {
  budget,
  machine: {},
  base,
  runs: [
    run('grpo', 1, [point(2, 20, 1000, 0.46), point(4, 40, 2000, 0.5, meta(1.8, 1.7))]),
    run('grpo', 2, [point(2, 22, 1100, 0.44), point(4, 44, 2200, 0.54, meta(1.6, 1.5))]),
    run('masa', 1, [point(2, 40, 3000, 0.5), point(4, 80, 6000, 0.56, meta(1.5, 1.7))], steps({}, shadowStep)),
    run('masa', 2, [point(2, 42, 3100, 0.52), point(4, 84, 6200, 0.58, meta(1.4, 1.5))], steps({}, shadowStep)),
    run('masa-efficient', 1, [point(2, 30, 2000, 0.45), point(4, 60, 4000, 0.5, meta(1.5, 1.7))], steps({ 'gating/fraction': 0.25, 'tokens/saved': 100, 'tokens/cutoff_rollouts': 2, 'gating/true_positives': 1 })),
    run('masa-efficient', 2, [point(2, 30, 2000, 0.45), point(4, 60, 4000, 0.51, meta(1.5, 1.7))]),
    run('sft', 1, [point(5, 5, 0, 0.5), point(10, 10, 0, 0.52, meta(1.9, 1.8))]),
    run('sft', 2, [point(5, 5, 0, 0.5), point(10, 10, 0, 0.5, meta(1.9, 1.8))]),
    run('masa-efficient', 1, [point(4, 50, 3000, 0.49, meta(1.6, 1.7))], steps({ 'gating/fraction': 0.5, 'gating/true_positives': 3, 'gating/false_positives': 1 }), { key: 'meta_n', value: 4 }),
  ],
};
