/**
 * The budget and the list of runs of the paper-claims experiment: every method
 * from the same checkpoint (`models/tiny-arith`, already annealed), the same
 * seeds, the same number of optimiser steps, the same evaluation points; then
 * one-seed ablations of M, σ_PG and l_LC around MASA-efficient.
 */
import { MasaError } from '@masa-rl/core';

/** The RL algorithms compared, and the control that only continues SFT. */
export const METHODS = ['grpo', 'dapo', 'masa', 'masa-efficient', 'sft'] as const;
export type MethodName = (typeof METHODS)[number];
export type RlMethodName = Exclude<MethodName, 'sft'>;

/** The config keys an ablation varies (`masa.*`). */
export const ABLATION_KEYS = ['meta_n', 'gating_std', 'cutoff_factor'] as const;
export type AblationKey = (typeof ABLATION_KEYS)[number];

/** What the whole experiment spends. */
export interface PaperClaimsBudget {
  /** `full` or `quick`: names the budget in the report. */
  name: string;
  /** One run per method and seed. */
  seeds: readonly number[];
  /** Optimiser steps of every RL run (16 problems × 8 rollouts each). */
  steps: number;
  /** Held-out accuracy every this many steps (and at the last). */
  evalEvery: number;
  /** Held-out problems (the first of the 200 of the validation split). */
  evalProblems: number;
  /** Samples per problem of the intermediate accuracy checks. */
  evalSamples: number;
  /** Samples per problem of the evaluations before and after training (with a greedy solution and a greedy meta prediction each): 8, the pass-rate scale. */
  finalSamples: number;
  /** MASA's calibration steps before gating and cutoff act (`masa.calibration_steps`). */
  calibrationSteps: number;
  /** SFT steps (24 examples, LR 1e-4) of the continue-SFT control, in total. */
  sftSteps: number;
  /** One-seed runs of masa-efficient with one key changed (the main runs give the default value). */
  ablations: ReadonlyArray<{ key: AblationKey; values: readonly number[] }>;
  /** Seed of the ablation runs. */
  ablationSeed: number;
}

/** Defaults of the ablated keys in the main runs (the embedded config's). */
export const ABLATION_DEFAULTS: Readonly<Record<AblationKey, number>> = Object.freeze({ meta_n: 8, gating_std: 0.1, cutoff_factor: 2 });

/**
 * `full`: about 75 minutes on one CPU core (measured 73 min: 3 seeds × 5 methods × 20 steps,
 * 6 ablation runs); `quick`: a smoke test of every code path in a few minutes.
 */
export const PAPER_CLAIMS_BUDGETS: Readonly<Record<'full' | 'quick', PaperClaimsBudget>> = Object.freeze({
  full: {
    name: 'full',
    seeds: [1, 2, 3],
    steps: 20,
    evalEvery: 5,
    evalProblems: 200,
    evalSamples: 4,
    finalSamples: 8,
    calibrationSteps: 5,
    sftSteps: 300,
    ablations: [
      { key: 'meta_n', values: [4, 16] },
      { key: 'gating_std', values: [0.05, 0.2] },
      { key: 'cutoff_factor', values: [1.5, 3] },
    ],
    ablationSeed: 1,
  },
  quick: {
    name: 'quick',
    seeds: [1],
    steps: 2,
    evalEvery: 1,
    evalProblems: 12,
    evalSamples: 2,
    finalSamples: 8,
    calibrationSteps: 1,
    sftSteps: 4,
    ablations: [
      { key: 'meta_n', values: [4] },
      { key: 'gating_std', values: [0.2] },
      { key: 'cutoff_factor', values: [1.5] },
    ],
    ablationSeed: 1,
  },
});

/** One training run of the experiment. */
export interface RunSpec {
  /** File-name-safe and unique: `grpo-s1`, `masa-efficient-meta_n-4`. */
  id: string;
  group: 'main' | 'ablation';
  method: MethodName;
  seed: number;
  /** RL: optimiser steps; SFT: SFT steps. */
  steps: number;
  /** Steps after which held-out accuracy is measured (ascending, the last is `steps`). */
  evalSteps: number[];
  /** `--set` overrides of the embedded config (RL runs). */
  overrides: string[];
  /** The ablated key and value, for ablation runs. */
  ablation?: { key: AblationKey; value: number };
}

function evalSchedule(steps: number, every: number): number[] {
  const points: number[] = [];
  for (let step = every; step < steps; step += every) points.push(step);
  points.push(steps);
  return points;
}

/** Checks a budget; throws `CONFIG_INVALID` naming the field. */
export function checkBudget(budget: PaperClaimsBudget): void {
  const positive = (name: string, value: number): void => {
    if (!(Number.isInteger(value) && value > 0)) {
      throw new MasaError('CONFIG_INVALID', `paper-claims budget: ${name} must be a positive integer, got ${String(value)}`, { details: { field: name } });
    }
  };
  positive('steps', budget.steps);
  positive('evalEvery', budget.evalEvery);
  positive('evalProblems', budget.evalProblems);
  positive('evalSamples', budget.evalSamples);
  positive('finalSamples', budget.finalSamples);
  positive('sftSteps', budget.sftSteps);
  if (budget.seeds.length === 0 || new Set(budget.seeds).size !== budget.seeds.length || !budget.seeds.every((seed) => Number.isInteger(seed) && seed >= 0)) {
    throw new MasaError('CONFIG_INVALID', `paper-claims budget: seeds must be distinct non-negative integers, got [${budget.seeds.join(', ')}]`, { details: { field: 'seeds' } });
  }
  if (budget.finalSamples !== 8) {
    throw new MasaError('CONFIG_INVALID', `paper-claims budget: finalSamples must be 8, the scale of the predicted pass_rate it is compared with; got ${budget.finalSamples}`, {
      details: { field: 'finalSamples' },
    });
  }
  const evalPoints = Math.ceil(budget.steps / budget.evalEvery);
  if (budget.sftSteps < evalPoints) {
    throw new MasaError('CONFIG_INVALID', `paper-claims budget: sftSteps (${budget.sftSteps}) must be at least the ${evalPoints} evaluation points, so each gets its own SFT step`, {
      details: { field: 'sftSteps' },
    });
  }
  if (budget.evalProblems > 200) {
    throw new MasaError('CONFIG_INVALID', `paper-claims budget: evalProblems is ${budget.evalProblems}; the validation split has 200`, { details: { field: 'evalProblems' } });
  }
  if (!(Number.isInteger(budget.calibrationSteps) && budget.calibrationSteps >= 0 && budget.calibrationSteps < budget.steps)) {
    throw new MasaError('CONFIG_INVALID', `paper-claims budget: calibrationSteps must be in 0..${budget.steps - 1} so gating acts at all, got ${budget.calibrationSteps}`, {
      details: { field: 'calibrationSteps' },
    });
  }
}

/** The `--set` overrides every RL run shares. */
function commonOverrides(budget: PaperClaimsBudget, seed: number): string[] {
  return [
    `trainer.total_training_steps=${budget.steps}`,
    `trainer.seed=${seed}`,
    `data.seed=${seed}`,
    // The experiment evaluates itself (same protocol for every method, SFT included) and restarts a run that was cut off.
    'trainer.test_freq=-1',
    'trainer.val_before_train=false',
    'trainer.save_freq=-1',
    `masa.calibration_steps=${budget.calibrationSteps}`,
  ];
}

/**
 * The runs, in the order they execute: seed by seed, every method of a seed
 * next to each other (so a slow spell of the machine hits all methods alike),
 * then the ablations.
 */
export function planPaperClaims(budget: PaperClaimsBudget): RunSpec[] {
  checkBudget(budget);
  const runs: RunSpec[] = [];
  const rlEvals = evalSchedule(budget.steps, budget.evalEvery);
  // The control evaluates at the same number of points, evenly over its SFT steps: distinct, ascending, ending at sftSteps.
  const sftEvals = rlEvals.map((step, i) => Math.min(Math.max(Math.round((step / budget.steps) * budget.sftSteps), i + 1), budget.sftSteps - (rlEvals.length - 1 - i)));
  for (let i = 1; i < sftEvals.length; i++) sftEvals[i] = Math.max(sftEvals[i] as number, (sftEvals[i - 1] as number) + 1);
  for (const seed of budget.seeds) {
    for (const method of METHODS) {
      runs.push({
        id: `${method}-s${seed}`,
        group: 'main',
        method,
        seed,
        steps: method === 'sft' ? budget.sftSteps : budget.steps,
        evalSteps: method === 'sft' ? sftEvals : rlEvals,
        overrides: method === 'sft' ? [] : commonOverrides(budget, seed),
      });
    }
  }
  for (const { key, values } of budget.ablations) {
    for (const value of values) {
      runs.push({
        id: `masa-efficient-${key}-${value}`,
        group: 'ablation',
        method: 'masa-efficient',
        seed: budget.ablationSeed,
        steps: budget.steps,
        evalSteps: [budget.steps],
        overrides: [...commonOverrides(budget, budget.ablationSeed), `masa.${key}=${value}`],
        ablation: { key, value },
      });
    }
  }
  return runs;
}
