import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, makeProblems, setup, tempRunDir, type Difficulty } from './__tests__/arith-task.js';
import { createDataLoader } from './data-loader.js';
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

// 16 problems: easy (always right), hard (always wrong), mixed (right on even samples).
const kinds: Difficulty[] = ['easy', 'hard', 'mixed', 'easy', 'hard', 'hard', 'mixed', 'easy', 'hard', 'mixed', 'easy', 'easy', 'hard', 'mixed', 'hard', 'mixed'];
const dataset = { name: 'arith', problems: makeProblems(kinds) };

/** Counts, by hand from the loader's batches, the rounds needed to gather `target` mixed prompts. */
function expectedRounds(target: number, cap: number): { rounds: number; kept: number; dropped: number } {
  const loader = createDataLoader({ size: kinds.length, batchSize: 4, seed: 1, totalEpochs: 1 });
  let kept = 0;
  let dropped = 0;
  let rounds = 0;
  for (let batch = loader.next(); batch !== undefined; batch = loader.next()) {
    rounds += 1;
    for (const index of batch.indices) {
      if (kinds[index] === 'mixed') kept += 1;
      else dropped += 1;
    }
    if (kept >= target || (cap > 0 && rounds >= cap)) break;
  }
  return { rounds, kept: Math.min(kept, target), dropped };
}

describe('DAPO dynamic sampling', () => {
  it('drops all-correct and all-wrong groups and refills the batch from the next batches', async () => {
    const expected = expectedRounds(4, 10);
    expect(expected.rounds).toBeGreaterThan(1); // the fixture needs refilling
    const harness = setup({ config: makeConfig(['trainer.total_training_steps=1'], 'dapo'), runDir: runDir(), train: dataset });
    const events: TrainEvent[] = [];
    for await (const event of trainIter(harness.options)) events.push(event);
    // One engine call per generation round.
    expect(harness.engine.calls.length).toBe(expected.rounds);
    expect(events.filter((event) => event.type === 'rollout-end').map((event) => (event as { round: number }).round)).toEqual(
      Array.from({ length: expected.rounds }, (_, i) => i + 1),
    );
    const end = events.find((event) => event.type === 'step-end') as Extract<TrainEvent, { type: 'step-end' }>;
    expect(end.metrics).toMatchObject({
      'train/num_gen_batches': expected.rounds,
      'train/kept_groups': 4,
      'train/dropped_groups': expected.dropped,
      'train/generated_groups': 4 * expected.rounds,
    });
    // Only mixed groups were trained on: half of their samples are right, and exactly B × n = 16 sequences went in.
    expect(end.metrics['critic/score/mean']).toBe(0.5);
    expect(end.metrics['actor/optimizer_steps']).toBe(2);
    expect(harness.engine.calls.flatMap((call) => call.requests).length).toBe(4 * expected.rounds);
  });

  it('stops at max_num_gen_batches, trains on what it kept and warns', async () => {
    const expected = expectedRounds(4, 1);
    expect(expected.kept).toBeLessThan(4);
    const harness = setup({
      config: makeConfig(['trainer.total_training_steps=1', 'algorithm.filter_groups.max_num_gen_batches=1'], 'dapo'),
      runDir: runDir(),
      train: dataset,
    });
    const result = await train(harness.options);
    expect(harness.engine.calls.length).toBe(1);
    expect(result.warnings.map((warning) => warning.code)).toContain('dapo-gen-cap');
    expect(result.lastMetrics?.['train/kept_groups']).toBe(expected.kept);
  });

  it('skips the update when no group varies, and ends when the data runs out', async () => {
    const allEasy = { name: 'easy', problems: makeProblems(Array.from({ length: 8 }, () => 'easy' as const)) };
    const harness = setup({ config: makeConfig([], 'dapo'), runDir: runDir(), train: allEasy });
    const result = await train(harness.options);
    expect(harness.engine.calls.length).toBe(2); // both batches of the only epoch
    expect(harness.backend.counters.optimStep).toBe(0);
    expect(result.reason).toBe('data-exhausted');
    expect(result.warnings.map((warning) => warning.code)).toEqual(['data-exhausted', 'empty-step']);
  });

  it('filters on the score when filter_groups.metric is score', async () => {
    const harness = setup({
      config: makeConfig(['trainer.total_training_steps=1', 'algorithm.filter_groups.metric=score'], 'dapo'),
      runDir: runDir(),
      train: dataset,
    });
    // A reward whose score varies inside every group but whose acc never does.
    const result = await train({
      ...harness.options,
      reward: ({ completion }) => ({ score: completion.text.length / 100, acc: 1 }),
    });
    expect(result.lastMetrics?.['train/num_gen_batches']).toBe(1);
    expect(result.lastMetrics?.['train/kept_groups']).toBe(4);
  });
});
