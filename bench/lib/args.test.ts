import { describe, expect, it } from 'vitest';
import { BENCHMARK_NAMES, parseBenchArgs, UsageError } from './args.mjs';

function usageError(argv: string[]): UsageError {
  try {
    parseBenchArgs(argv);
  } catch (error: unknown) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('parseBenchArgs', () => {
  it('defaults: every benchmark, cpu, build and setup on', () => {
    expect(parseBenchArgs([])).toEqual({ quick: false, only: [...BENCHMARK_NAMES], repeat: undefined, device: 'cpu', out: undefined, build: true, setup: true, help: false });
  });

  it('--only keeps the run order whatever order it is given in', () => {
    const args = parseBenchArgs(['--quick', '--only', 'rollout, grading', '--repeat', '4', '--device', 'cuda', '--no-build', '--no-setup', '--out', 'x.md']);
    expect(args).toMatchObject({ quick: true, only: ['grading', 'rollout'], repeat: 4, device: 'cuda', out: 'x.md', build: false, setup: false });
  });

  it('bad flags name the flag and what it accepts', () => {
    expect(usageError(['--only', 'grading,gpu']).message).toMatch(/--only: unknown benchmark 'gpu'; choose from roofline, grading, train-step, model-memory, rollout/);
    expect(usageError(['--only', ',']).message).toMatch(/empty list/);
    expect(usageError(['--repeat', '0']).message).toMatch(/--repeat must be a whole number from 1 to 100, got '0'/);
    expect(usageError(['--repeat', '2.5']).message).toMatch(/--repeat/);
    expect(usageError(['--device', 'gpu']).message).toMatch(/--device must be cpu or cuda, got 'gpu'/);
    expect(usageError(['--fast']).message).toMatch(/--fast/);
  });
});
