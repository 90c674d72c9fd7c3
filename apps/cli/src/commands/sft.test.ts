import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import type { TinyRecipeResult, runTinyRecipe } from '@masa-rl/trainer';
import { describe, expect, it } from 'vitest';
import { createSftCommand } from './sft.js';

type RecipeCall = Parameters<typeof runTinyRecipe>[0];

const fakeResult = (outDir: string | null): TinyRecipeResult => ({
  settings: {
    seed: 1,
    steps: 10,
    batchSize: 24,
    peakLr: 2e-3,
    finalLr: 1e-4,
    warmupSteps: 10,
    annealSteps: 0,
    metaFraction: 0.15,
    mix: 'prototype',
    poolBatches: 32,
    weightDecay: 0.1,
    betas: [0.9, 0.98],
    eps: 1e-8,
    maxGradNorm: 1,
    sequenceBucket: 16,
  },
  parameters: 566_720,
  training: { steps: 10, responseTokens: 1, tokens: 2, paddedTokens: 2, examples: { solution: 9, meta: 1 }, lossEma: 1.5, ms: 60_000, stepsPerSecond: 0.17 },
  evaluation: null,
  weightsSha256: 'ab'.repeat(32),
  outDir,
});

async function run(args: string[]): Promise<{ out: string; err: string; calls: RecipeCall[] }> {
  let out = '';
  let err = '';
  const calls: RecipeCall[] = [];
  const command = createSftCommand({
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd: '/work/here',
    _internal: {
      signal: new AbortController().signal,
      runRecipe: async (options) => {
        calls.push(options);
        options?.onEvent?.({ type: 'recipe-progress', step: 5, steps: 10, lr: 1e-3, loss: 1.6, lossEma: 1.7, gradNorm: 0.5, elapsedMs: 30_000 });
        return fakeResult(options?.outDir ?? null);
      },
    },
  });
  command.exitOverride();
  await command.parseAsync(args, { from: 'user' });
  return { out, err, calls };
}

describe('masa sft', () => {
  it('runs the tiny recipe into models/tiny-arith by default and prints progress and a summary', async () => {
    const { out, err, calls } = await run(['--recipe', 'tiny']);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.outDir).toBe(join('/work/here', 'models/tiny-arith'));
    expect(calls[0]?.steps).toBeUndefined();
    expect(calls[0]?.evaluation).toBeUndefined();
    expect(err).toContain('step 5/10  loss 1.7000');
    expect(out).toContain('trained 10 steps in 1.0 min');
    expect(out).toContain('checkpoint: models/tiny-arith');
  });

  it('passes --steps, --seed, --out and --no-eval through, and --json writes events as NDJSON', async () => {
    const { out, calls } = await run(['--recipe', 'tiny', '--steps', '40', '--seed', '3', '--out', '/tmp/x', '--no-eval', '--json']);
    expect(calls[0]).toMatchObject({ outDir: '/tmp/x', steps: 40, seed: 3, evaluation: false });
    expect(JSON.parse(out.trim().split('\n')[0] as string)).toMatchObject({ type: 'recipe-progress', step: 5 });
  });

  it('rejects unknown recipes, bad numbers and --steps with --minutes', async () => {
    const code = async (args: string[]): Promise<string> => {
      try {
        await run(args);
      } catch (error: unknown) {
        if (MasaError.isInstance(error)) return error.code;
        throw error;
      }
      throw new Error('expected a failure');
    };
    expect(await code(['--recipe', 'huge'])).toBe('ARGUMENT_INVALID');
    expect(await code(['--recipe', 'tiny', '--steps', '1.5'])).toBe('ARGUMENT_INVALID');
    expect(await code(['--recipe', 'tiny', '--minutes', '0'])).toBe('ARGUMENT_INVALID');
    expect(await code(['--recipe', 'tiny', '--steps', '10', '--minutes', '2'])).toBe('ARGUMENT_INVALID');
  });
});
