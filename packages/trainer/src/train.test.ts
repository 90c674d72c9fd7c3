import { readFileSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, makeProblems, setup, tempRunDir } from './__tests__/arith-task.js';
import type { TrainEvent } from './events.js';
import { train, trainIter } from './train.js';

const dirs: string[] = [];
const runDir = (): string => {
  const dir = tempRunDir();
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const learnable = { name: 'arith', problems: makeProblems(Array.from({ length: 8 }, () => 'learnable' as const)) };

async function collect(iterator: AsyncGenerator<TrainEvent, unknown>): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  for await (const event of iterator) events.push(event);
  return events;
}

describe('trainIter (grpo)', () => {
  it('runs the verl step order and writes the run folder', async () => {
    const dir = runDir();
    const { options, backend, engine } = setup({
      config: makeConfig(['trainer.total_training_steps=2']),
      runDir: dir,
      train: learnable,
    });
    const events = await collect(trainIter(options));
    expect(events.map((event) => event.type)).toEqual([
      'run-start',
      'step-start', 'rollout-end', 'reward-end', 'update-end', 'checkpoint-saved', 'step-end',
      'step-start', 'rollout-end', 'reward-end', 'update-end', 'checkpoint-saved', 'step-end',
      'run-end',
    ]);
    expect(events[0]).toMatchObject({ type: 'run-start', algorithm: 'grpo', startStep: 0, totalSteps: 2, resumedFrom: null });
    // B = 4 prompts × n = 4 → 16 sequences; mini-batch = 2 prompts × 4 = 8 sequences → 2 optimiser steps per step.
    expect(events.filter((event) => event.type === 'update-end').map((event) => (event as { optimizerSteps: number }).optimizerSteps)).toEqual([2, 2]);
    expect(backend.counters.optimStep).toBe(4);
    expect(engine.calls.length).toBe(2);
    expect(engine.calls[0]?.requests.map((request) => request.n)).toEqual([4, 4, 4, 4]);
    expect(engine.calls[0]?.requests[0]).toMatchObject({ maxNewTokens: 64, temperature: 1, topP: 1 });
    expect(engine.calls[0]?.requests[0]?.topK).toBeUndefined();

    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, number>);
    expect(metrics.map((m) => m['step'])).toEqual([1, 2]);
    expect(metrics[0]).toMatchObject({ 'training/global_step': 1, 'actor/optimizer_steps': 2, 'train/num_gen_batches': 1 });
    // warm-up 2 steps: step 1 uses lr/2, step 2 the full lr.
    expect(metrics.map((m) => m['actor/lr'])).toEqual([0.025, 0.05]);
    expect(backend.optimCalls.map((call) => call.lr)).toEqual([0.025, 0.025, 0.05, 0.05]);
    expect(backend.optimCalls[0]).toMatchObject({ maxGradNorm: 1, weightDecay: 0.1, betas: [0.9, 0.999], eps: 1e-8 });
    expect(existsSync(join(dir, 'config.resolved.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'checkpoints', 'step-1', 'manifest.json'))).toBe(true);
    expect(existsSync(join(dir, 'checkpoints', 'step-2', 'weights', 'weights.bin'))).toBe(true);
    const samples = readFileSync(join(dir, 'samples.jsonl'), 'utf8').trim().split('\n');
    expect(samples.length).toBe(4); // 2 per step
    expect(JSON.parse(samples[0] as string)).toMatchObject({ step: 1, branch: 'solution', dataset: 'arith' });
  });

  it('train() drains the iterator and reports the result', async () => {
    const { options } = setup({ config: makeConfig(['trainer.total_training_steps=1']), runDir: runDir(), train: learnable });
    const seen: string[] = [];
    const result = await train({ ...options, onEvent: (event) => seen.push(event.type) });
    expect(result).toMatchObject({ step: 1, reason: 'completed', warnings: [] });
    expect(result.lastMetrics?.step).toBe(1);
    expect(seen.at(-1)).toBe('run-end');
  });
});
