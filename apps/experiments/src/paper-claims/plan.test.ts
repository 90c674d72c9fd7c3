import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { PAPER_CLAIMS_BUDGETS, planPaperClaims, type PaperClaimsBudget } from './plan.js';

const full = PAPER_CLAIMS_BUDGETS.full;

describe('planPaperClaims', () => {
  it('runs every method for every seed, seed by seed, then one run per ablated value', () => {
    const plan = planPaperClaims(full);
    expect(plan.slice(0, 5).map((spec) => spec.id)).toEqual(['grpo-s1', 'dapo-s1', 'masa-s1', 'masa-efficient-s1', 'sft-s1']);
    expect(plan.filter((spec) => spec.group === 'main')).toHaveLength(15);
    expect(plan.filter((spec) => spec.group === 'ablation').map((spec) => spec.id)).toEqual([
      'masa-efficient-meta_n-4',
      'masa-efficient-meta_n-16',
      'masa-efficient-gating_std-0.05',
      'masa-efficient-gating_std-0.2',
      'masa-efficient-cutoff_factor-1.5',
      'masa-efficient-cutoff_factor-3',
    ]);
    const grpo = plan[0];
    expect(grpo?.evalSteps).toEqual([5, 10, 15, 20]);
    expect(grpo?.overrides).toEqual(expect.arrayContaining(['trainer.seed=1', 'data.seed=1', 'trainer.total_training_steps=20', 'trainer.save_freq=-1', 'masa.calibration_steps=5']));
    expect(plan.find((spec) => spec.id === 'sft-s1')?.evalSteps).toEqual([75, 150, 225, 300]);
    expect(plan.find((spec) => spec.id === 'masa-efficient-meta_n-16')?.overrides.at(-1)).toBe('masa.meta_n=16');
  });

  it('gives the SFT control distinct evaluation steps ending at its last step, however few steps it has', () => {
    for (const sftSteps of [2, 3, 5, 7]) {
      const plan = planPaperClaims({ ...full, steps: 4, evalEvery: 3, calibrationSteps: 1, sftSteps: Math.max(sftSteps, 2) });
      const evals = plan.find((spec) => spec.method === 'sft')?.evalSteps ?? [];
      expect(evals.at(-1)).toBe(Math.max(sftSteps, 2));
      expect(new Set(evals).size).toBe(evals.length);
      expect(evals[0]).toBeGreaterThanOrEqual(1);
    }
  });

  it('refuses budgets that would measure nothing, naming the field', () => {
    const bad: Array<[Partial<PaperClaimsBudget>, string]> = [
      [{ finalSamples: 4 }, 'finalSamples'],
      [{ sftSteps: 3 }, 'sftSteps'],
      [{ calibrationSteps: 20 }, 'calibrationSteps'],
      [{ seeds: [1, 1] }, 'seeds'],
      [{ evalProblems: 201 }, 'evalProblems'],
      [{ steps: 0 }, 'steps'],
    ];
    for (const [change, field] of bad) {
      let caught: unknown;
      try {
        planPaperClaims({ ...full, ...change });
      } catch (error) {
        caught = error;
      }
      expect(MasaError.isInstance(caught) && caught.code, field).toBe('CONFIG_INVALID');
      expect((caught as MasaError).details?.['field'], field).toBe(field);
    }
  });
});
