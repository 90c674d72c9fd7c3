import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError, createRng } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, makeProblems, setup, tempRunDir } from './__tests__/arith-task.js';
import { findLatestCheckpoint, verifyCheckpoint } from './checkpoint.js';
import type { TrainerConfig } from './config-schema.js';
import type { TrainEvent } from './events.js';
import { trainIter } from './train.js';

const dirs: string[] = [];
const runDir = (): string => {
  const dir = tempRunDir();
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const train = { name: 'arith', problems: makeProblems(Array.from({ length: 10 }, () => 'learnable' as const)) };

/** Runs until `stopAfter` events have been seen (then abandons the generator, like a kill), or to the end. */
async function runUntil(config: TrainerConfig, dir: string, stopAfter = Number.POSITIVE_INFINITY) {
  const harness = setup({ config, runDir: dir, train });
  const iterator = trainIter(harness.options);
  const events: TrainEvent[] = [];
  for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
    events.push(result.value);
    if (events.length >= stopAfter) {
      await iterator.return(undefined as never);
      break;
    }
  }
  return { ...harness, events };
}

async function finalState(dir: string, backend: Awaited<ReturnType<typeof runUntil>>['backend']) {
  const latest = await findLatestCheckpoint(join(dir, 'checkpoints'));
  const state = await backend.getState();
  return {
    weights: Array.from(backend.weights()),
    optimizer: Object.fromEntries(Object.entries(state).map(([name, bytes]) => [name, Array.from(bytes)])),
    metrics: readFileSync(join(dir, 'metrics.jsonl'), 'utf8'),
    samples: readFileSync(join(dir, 'samples.jsonl'), 'utf8'),
    trainerState: latest === undefined ? null : await readFile(join(latest.path, 'trainer-state.json'), 'utf8'),
    checkpoint: latest?.step,
  };
}

describe('kill and resume', () => {
  // 5 steps over 2 epochs (10 problems / batch 4 → 2 batches per epoch, 3 epochs), checkpoints every 2 steps and at the end.
  const config = makeConfig(['trainer.total_training_steps=5', 'trainer.total_epochs=3', 'trainer.save_freq=2']);

  it('ends bit-identical to an uninterrupted run when interrupted at random points', async () => {
    const referenceDir = runDir();
    const reference = await runUntil(config, referenceDir);
    const expected = await finalState(referenceDir, reference.backend);
    expect(expected.checkpoint).toBe(5);
    // The weights moved (so the comparison means something).
    expect(expected.weights).not.toEqual(Array.from(setup({ config, runDir: runDir(), train }).backend.weights()));
    const totalEvents = reference.events.length;

    const rng = createRng('kill-points');
    for (let trial = 0; trial < 4; trial++) {
      const dir = runDir();
      // One or two interruptions, each after a random number of events of that process.
      const kills = Array.from({ length: 1 + (trial % 2) }, () => rng.int(2, totalEvents - 2));
      for (const stopAfter of kills) await runUntil(config, dir, stopAfter);
      const resumed = await runUntil(config, dir);
      expect(await finalState(dir, resumed.backend), `kills after ${kills.join(', ')} events`).toEqual(expected);
    }
  });

  it('resumes from the newest complete checkpoint and truncates metrics written after it', async () => {
    const dir = runDir();
    // Stop right after step 3's step-end: metrics has steps 1..3, the newest checkpoint is step 2.
    const first = await runUntil(config, dir, 1 + 5 + 6 + 5);
    expect(first.events.at(-1)).toMatchObject({ type: 'step-end', step: 3 });
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length).toBe(3);
    const second = await runUntil(config, dir, 1);
    expect(second.events[0]).toMatchObject({ type: 'run-start', startStep: 2, resumedFrom: join(dir, 'checkpoints', 'step-2') });
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { step: number }).step)).toEqual([1, 2]);
  });

  it('never resumes from a checkpoint cut short: a half-written temp folder and a corrupted manifest are skipped', async () => {
    const dir = runDir();
    const referenceDir = runDir();
    const reference = await runUntil(config, referenceDir);
    const expected = await finalState(referenceDir, reference.backend);

    await runUntil(config, dir, 1 + 5 + 6); // steps 1 and 2 done, checkpoint step-2 saved
    const checkpoints = join(dir, 'checkpoints');
    // A process killed while writing step 3 leaves a temp folder…
    await mkdir(join(checkpoints, '.tmp-step-3-0badc0de', 'weights'), { recursive: true });
    await writeFile(join(checkpoints, '.tmp-step-3-0badc0de', 'weights', 'weights.bin'), 'partial');
    // …and a step-4 folder whose manifest was torn.
    await mkdir(join(checkpoints, 'step-4'));
    await writeFile(join(checkpoints, 'step-4', 'manifest.json'), '{"format":"masa-rl-checkpoint","vers');
    const resumed = await runUntil(config, dir);
    expect(resumed.events[0]).toMatchObject({ type: 'warning', code: 'checkpoint-skipped' });
    expect(resumed.events[1]).toMatchObject({ type: 'run-start', startStep: 2 });
    expect(await finalState(dir, resumed.backend)).toEqual(expected);
  });

  it('refuses a checkpoint made with other data, and starts fresh with resume_mode=disable', async () => {
    const dir = runDir();
    await runUntil(config, dir, 1 + 5 + 6);
    const other = { name: 'other', problems: makeProblems(Array.from({ length: 10 }, () => 'mixed' as const)) };
    const harness = setup({ config, runDir: dir, train: other });
    await expect(trainIter(harness.options).next()).rejects.toSatisfy(
      (error: unknown) => MasaError.hasCode(error, 'CHECKPOINT_INVALID') && (error as Error).message.includes('other training data'),
    );
    const fresh = setup({ config: makeConfig(['trainer.total_training_steps=1', 'trainer.resume_mode=disable']), runDir: dir, train });
    const first = await trainIter(fresh.options).next();
    expect(first.value).toMatchObject({ type: 'run-start', startStep: 0, resumedFrom: null });
  });

  it('warns when resuming with a changed config', async () => {
    const dir = runDir();
    await runUntil(config, dir, 1 + 5 + 6);
    const changed = makeConfig(['trainer.total_training_steps=5', 'trainer.total_epochs=3', 'trainer.save_freq=2', 'actor_rollout_ref.actor.optim.lr=0.01']);
    const harness = setup({ config: changed, runDir: dir, train });
    const first = await trainIter(harness.options).next();
    expect(first.value).toMatchObject({ type: 'warning', code: 'config-changed' });
    expect((first.value as { message: string }).message).toContain('actor_rollout_ref.actor.optim.lr');
  });

  it('keeps only the newest K checkpoints', async () => {
    const dir = runDir();
    await runUntil(makeConfig(['trainer.total_training_steps=4', 'trainer.total_epochs=2', 'trainer.max_actor_ckpt_to_keep=2']), dir);
    const latest = await findLatestCheckpoint(join(dir, 'checkpoints'));
    expect(latest?.step).toBe(4);
    expect((await verifyCheckpoint(join(dir, 'checkpoints', 'step-3'))).ok).toBe(true);
    expect((await verifyCheckpoint(join(dir, 'checkpoints', 'step-2'))).ok).toBe(false);
  });
});

describe('graceful stop (stopRequested)', () => {
  const config = makeConfig(['trainer.total_training_steps=5', 'trainer.total_epochs=3', 'trainer.save_freq=2']);

  /** Runs with a stop requested at the given poll (polls happen once before each step), then resumes to the end. */
  async function stopAndResume(stopAtPoll: number) {
    const dir = runDir();
    const harness = setup({ config, runDir: dir, train });
    let polls = 0;
    const events: TrainEvent[] = [];
    const iterator = trainIter({ ...harness.options, stopRequested: () => ++polls >= stopAtPoll });
    let result = await iterator.next();
    for (; !result.done; result = await iterator.next()) events.push(result.value);
    const resumed = await runUntil(config, dir);
    return { dir, events, result: result.value, resumed };
  }

  it('checkpoints the last finished step, ends with reason stopped, and resumes bit-identical to a run that never stopped', async () => {
    const referenceDir = runDir();
    const reference = await runUntil(config, referenceDir);
    const expected = await finalState(referenceDir, reference.backend);

    // Poll 4 comes before step 4: steps 1–3 run, step 3 (not on save_freq's schedule) is saved by the stop.
    const { dir, events, result, resumed } = await stopAndResume(4);
    expect(result).toMatchObject({ step: 3, reason: 'stopped' });
    expect(events.slice(-3).map((event) => event.type)).toEqual(['step-end', 'checkpoint-saved', 'run-end']);
    expect(events.at(-2)).toMatchObject({ type: 'checkpoint-saved', step: 3 });
    expect(events.at(-1)).toMatchObject({ type: 'run-end', step: 3, reason: 'stopped' });
    expect(resumed.events[0]).toMatchObject({ type: 'run-start', startStep: 3 });
    expect(await finalState(dir, resumed.backend)).toEqual(expected);
  });

  it('does not save a step twice, and has nothing to save before step 1', async () => {
    // Poll 3 comes before step 3: step 2 was saved on schedule (save_freq 2).
    const onSchedule = await stopAndResume(3);
    expect(onSchedule.result).toMatchObject({ step: 2, reason: 'stopped' });
    expect(onSchedule.events.filter((event) => event.type === 'checkpoint-saved').map((event) => (event as { step: number }).step)).toEqual([2]);
    const first = await stopAndResume(1);
    expect(first.result).toMatchObject({ step: 0, reason: 'stopped' });
    expect(first.events.some((event) => event.type === 'checkpoint-saved')).toBe(false);
    expect(first.resumed.events[0]).toMatchObject({ type: 'run-start', startStep: 0 });
  });
});
