import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { findRepoRoot } from '@masa-rl/train-app';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPaperClaims, type RunPaperClaimsOptions } from './experiment.js';
import { PAPER_CLAIMS_BUDGETS, planPaperClaims } from './plan.js';
import type { RunResult } from './run.js';

const repoRoot = findRepoRoot(import.meta.dirname) as string;
let dir: string;
let options: RunPaperClaimsOptions;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paper-claims-'));
  options = {
    budget: PAPER_CLAIMS_BUDGETS.quick,
    repoRoot,
    logDir: join(dir, 'out', 'log'),
    figuresDir: join(dir, 'out'),
    reportPath: join(dir, 'out.md'),
    workDir: join(dir, 'work'),
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readRun = (id: string): RunResult => JSON.parse(readFileSync(join(options.logDir, 'runs', `${id}.json`), 'utf8')) as RunResult;

describe('masa experiment paper-claims --quick (the CI smoke test: real training on models/tiny-arith)', () => {
  it('runs every method and ablation, and writes the log, the figures and a report built from that log', async () => {
    const plan = planPaperClaims(PAPER_CLAIMS_BUDGETS.quick);
    const outcome = await runPaperClaims(options);
    expect(outcome.ran).toEqual(plan.map((spec) => spec.id));
    expect(outcome.reused).toEqual([]);
    for (const spec of plan) {
      const run = readRun(spec.id);
      expect(run.spec).toEqual(spec);
      expect(run.evals.map((point) => point.step)).toEqual([0, ...spec.evalSteps]);
      expect(run.steps).toHaveLength(spec.steps);
      // RL runs count their rollout tokens; the last evaluation carries the meta prediction.
      if (spec.method !== 'sft') expect(run.totals.rolloutTokens).toBe(run.steps.reduce((sum, step) => sum + step.rolloutTokens, 0));
      expect(run.evals.at(-1)?.meta).not.toBeNull();
    }
    // MASA writes the shadow cutoff counts; masa-efficient the live gating counts.
    expect(readRun('masa-s1').steps[0]?.metrics['cutoff/shadow/rollouts_correct']).toBeTypeOf('number');
    expect(readRun('masa-efficient-s1').steps.at(-1)?.metrics['gating/live']).toBe(1);

    const report = readFileSync(options.reportPath, 'utf8');
    for (const name of ['accuracy-vs-time.svg', 'accuracy-vs-tokens.svg', 'accuracy-vs-steps.svg', 'calibration.svg', 'gating.svg', 'cutoff.svg', 'ablations.svg']) {
      expect(report).toContain(`](out/${name})`);
      expect(readFileSync(join(options.figuresDir, name), 'utf8').startsWith('<svg')).toBe(true);
    }
    // A number of the report, recomputed from the log file alone.
    const grpoFinal = readRun('grpo-s1').evals.at(-1)?.accuracy as number;
    expect(report).toContain(`| GRPO | ${(100 * grpoFinal).toFixed(1)}% |`);
  }, 600_000);

  it('resumes from its log, and a run redone after its file is deleted gives the same numbers', async () => {
    const before = readFileSync(options.reportPath, 'utf8');
    const again = await runPaperClaims(options);
    expect(again.ran).toEqual([]);
    expect(readFileSync(options.reportPath, 'utf8')).toBe(before);

    const first = readRun('masa-efficient-s1');
    rmSync(join(options.logDir, 'runs', 'masa-efficient-s1.json'));
    const redo = await runPaperClaims(options);
    expect(redo.ran).toEqual(['masa-efficient-s1']);
    const second = readRun('masa-efficient-s1');
    expect(second.evals.map((point) => [point.accuracy, point.rolloutTokens, point.meta])).toEqual(first.evals.map((point) => [point.accuracy, point.rolloutTokens, point.meta]));
    const withoutTiming = (run: RunResult) => run.steps.map(({ metrics }) => Object.fromEntries(Object.entries(metrics).filter(([key]) => !key.startsWith('timing_s/'))));
    expect(withoutTiming(second)).toEqual(withoutTiming(first));
  }, 600_000);

  it('refuses a log written with another budget, and --report-only without a log', async () => {
    let caught: unknown;
    try {
      await runPaperClaims({ ...options, budget: { ...PAPER_CLAIMS_BUDGETS.quick, name: 'other', steps: 3 } });
    } catch (error) {
      caught = error;
    }
    expect(MasaError.isInstance(caught) && caught.code).toBe('CONFIG_INVALID');
    expect((caught as Error).message).toContain('--fresh');
    const empty = join(dir, 'empty');
    await expect(runPaperClaims({ ...options, logDir: join(empty, 'log'), reportOnly: true })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(existsSync(empty)).toBe(false);
  });
});
