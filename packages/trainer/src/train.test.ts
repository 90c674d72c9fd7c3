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

import { MasaError } from '@masa-rl/core';
import { findLatestCheckpoint, verifyCheckpoint } from './checkpoint.js';
import type { LossSpec, PolicyBackend, TrainSequence } from '@masa-rl/core';
import type { FakeBackend } from './test/fake-backend.js';

interface Spy {
  backend: PolicyBackend;
  /** Every forwardBackward batch, with the current policy's log-probs at call time. */
  calls: Array<{ sequences: readonly TrainSequence[]; currentLogprobs: number[][]; loss: LossSpec }>;
  gradNorms: number[];
}

function spy(inner: FakeBackend): Spy {
  const calls: Spy['calls'] = [];
  const gradNorms: number[] = [];
  const backend: PolicyBackend = {
    ...inner,
    forwardBackward: async (batch, loss) => {
      const currentLogprobs = await inner.logprobs({ sequences: batch.sequences, temperature: 1 });
      calls.push({ sequences: batch.sequences, currentLogprobs, loss });
      return inner.forwardBackward(batch, loss);
    },
    gradNorm: async () => {
      const norm = await inner.gradNorm();
      gradNorms.push(norm);
      return norm;
    },
  };
  return { backend, calls, gradNorms };
}

describe('policy update semantics', () => {
  it('trains the first mini-batch on-policy (its own log-probs as the old ones, ratio 1), scores the rest before any step, and weights tokens exactly', async () => {
    const harness = setup({ config: makeConfig(['trainer.total_training_steps=1']), runDir: runDir(), train: learnable });
    const probe = spy(harness.backend);
    const events = await collect(trainIter({ ...harness.options, backend: probe.backend }));
    const update = events.find((event) => event.type === 'update-end') as Extract<TrainEvent, { type: 'update-end' }>;
    // 16 sequences, mini-batches of 8: the first mini-batch's micro-batches hold sequences 0..7.
    let seen = 0;
    let weightedAdvantage = 0;
    let tokens = 0;
    // The policy before the update: a fresh backend with the same initial weights.
    const initial = setup({ config: makeConfig(['trainer.total_training_steps=1']), runDir: runDir(), train: learnable }).backend;
    const before = await initial.logprobs({ sequences: probe.calls.flatMap((call) => call.sequences), temperature: 1 });
    let row0 = 0;
    for (const call of probe.calls) {
      if (seen >= 8) {
        // Later mini-batches carry old log-probs: the policy's before the first optimiser step, not the current one's.
        expect((call.loss as { onPolicy?: boolean }).onPolicy).toBeUndefined();
        call.sequences.forEach((sequence, row) => {
          expect(sequence.oldLogprobs).toHaveLength(sequence.responseTokenIds.length);
          expect(sequence.oldLogprobs).toEqual(before[row0 + row]);
          expect(sequence.oldLogprobs).not.toEqual(call.currentLogprobs[row]);
        });
        row0 += call.sequences.length;
        continue;
      }
      // Nothing has been updated yet: π_old = π_θ, so the loss takes the current log-probs (no scoring pass for them).
      expect(call.loss).toMatchObject({ kind: 'policy', onPolicy: true });
      call.sequences.forEach((sequence) => {
        expect(sequence.oldLogprobs).toBeUndefined();
        weightedAdvantage += (sequence.advantage as number) * sequence.responseTokenIds.length;
        tokens += sequence.responseTokenIds.length;
      });
      seen += call.sequences.length;
      row0 += call.sequences.length;
    }
    expect(seen).toBe(8);
    expect(probe.calls.length).toBeGreaterThan(2); // the 128-token budget forces several micro-batches per mini-batch
    // With ratio 1 and no clipping, each token's loss is −A, so the token-mean over the mini-batch is −Σ A_i n_i / Σ n_i.
    const firstMiniLoss = -weightedAdvantage / tokens;
    const metrics = events.find((event) => event.type === 'step-end') as Extract<TrainEvent, { type: 'step-end' }>;
    expect(update.optimizerSteps).toBe(2);
    // The step's pg_loss is the mean of its mini-batch losses.
    expect(metrics.metrics['actor/pg_loss']).toBe(update.loss);
    const lossesPerMini = miniLosses(probe);
    expect(lossesPerMini[0]).toBeCloseTo(firstMiniLoss, 12);
  });

  it('gives the same mini-batch gradient whatever the micro-batch budget', async () => {
    const norms = async (budget: number) => {
      const harness = setup({
        config: makeConfig(['trainer.total_training_steps=1', `actor_rollout_ref.actor.ppo_max_token_len_per_gpu=${budget}`]),
        runDir: runDir(),
        train: learnable,
      });
      const probe = spy(harness.backend);
      const events = await collect(trainIter({ ...harness.options, backend: probe.backend }));
      const update = events.find((event) => event.type === 'update-end') as Extract<TrainEvent, { type: 'update-end' }>;
      return { probe, update, weights: harness.backend.weights() };
    };
    const small = await norms(128);
    const large = await norms(100_000);
    expect(large.update.microBatches).toBe(2);
    expect(small.update.microBatches).toBeGreaterThan(4);
    // The gradient norm read after the last micro-batch of a mini-batch is the whole mini-batch's.
    const largeNorms = [large.probe.gradNorms[0], large.probe.gradNorms[1]];
    // Find the small run's mini-batch boundaries from the sequence counts.
    const boundaries: number[] = [];
    let count = 0;
    small.probe.calls.forEach((call, index) => {
      count += call.sequences.length;
      if (count === 8 || count === 16) boundaries.push(index);
    });
    expect(boundaries.length).toBe(2);
    expect(small.probe.gradNorms[boundaries[0] as number]).toBeCloseTo(largeNorms[0] as number, 12);
    expect(small.probe.gradNorms[boundaries[1] as number]).toBeCloseTo(largeNorms[1] as number, 12);
    expect(small.update.loss).toBeCloseTo(large.update.loss, 12);
    Array.from(small.weights).forEach((value, i) => expect(value).toBeCloseTo(large.weights[i] as number, 10));
  });

  it('passes the reference policy and KL settings when use_kl_loss is on', async () => {
    const harness = setup({
      config: makeConfig(['trainer.total_training_steps=1', 'actor_rollout_ref.actor.use_kl_loss=true', 'actor_rollout_ref.actor.kl_loss_coef=0.1']),
      runDir: runDir(),
      train: learnable,
    });
    const policies: string[] = [];
    const backend: PolicyBackend = {
      ...harness.backend,
      logprobs: (batch, options) => {
        policies.push(options?.policy ?? 'current');
        return harness.backend.logprobs(batch, options);
      },
    };
    const seenKl: Array<{ coef: number; type: string } | null> = [];
    const result = await train({
      ...harness.options,
      backend: {
        ...backend,
        forwardBackward: (batch, loss) => {
          if (loss.kind === 'policy') seenKl.push(loss.kl);
          // At the first step π_θ = π_ref before any update: the reference log-probs equal the old ones.
          for (const sequence of batch.sequences) expect(sequence.refLogprobs?.length).toBe(sequence.responseTokenIds.length);
          return harness.backend.forwardBackward(batch, loss);
        },
      },
    });
    expect(new Set(policies)).toEqual(new Set(['current', 'reference']));
    expect(seenKl[0]).toEqual({ coef: 0.1, type: 'low_var_kl' });
    expect(result.lastMetrics?.['actor/kl_loss']).toBeGreaterThan(0);
  });
});

/**
 * Σ lossWeight · (−A·ρ) over the micro-batches of each 8-sequence mini-batch of a one-step run, from what the
 * backend received. Equals the backend's loss where no clip binds (always on the first mini-batch, ρ = 1).
 */
function miniLosses(probe: Spy): number[] {
  const out: number[] = [];
  let seen = 0;
  let current = 0;
  for (const call of probe.calls) {
    for (const [row, sequence] of call.sequences.entries()) {
      const logps = call.currentLogprobs[row] as number[];
      sequence.responseTokenIds.forEach((_, t) => {
        const old = (call.loss as { onPolicy?: boolean }).onPolicy === true ? logps[t] : sequence.oldLogprobs?.[t]; // on-policy: its own
        const ratio = Math.exp((logps[t] as number) - (old as number));
        current += sequence.lossWeight * -(sequence.advantage as number) * ratio;
      });
    }
    seen += call.sequences.length;
    if (seen % 8 === 0) {
      out.push(current);
      current = 0;
    }
  }
  return out;
}

describe('numeric failures', () => {
  const config = makeConfig(['trainer.total_training_steps=4', 'trainer.total_epochs=2', 'trainer.save_freq=2']);

  async function callsAfterStep2(): Promise<{ forwardBackward: number; optimStep: number }> {
    const harness = setup({ config, runDir: runDir(), train: learnable });
    for await (const event of trainIter(harness.options)) {
      if (event.type === 'step-end' && event.step === 2) return { ...harness.backend.counters };
    }
    throw new Error('no step 2');
  }

  for (const fault of ['nanLossAtCall', 'nanGradAtCall'] as const) {
    it(`stops with NUMERIC_INSTABILITY naming the step and micro-batch (${fault}), touching no weights`, async () => {
      const before = await callsAfterStep2();
      const dir = runDir();
      const harness = setup({ config, runDir: dir, train: learnable, faults: { [fault]: before.forwardBackward + 2 } });
      let weightsAtStep2: number[] = [];
      let error: unknown;
      try {
        for await (const event of trainIter(harness.options)) {
          if (event.type === 'step-end' && event.step === 2) weightsAtStep2 = Array.from(harness.backend.weights());
        }
      } catch (caught: unknown) {
        error = caught;
      }
      expect(MasaError.hasCode(error, 'NUMERIC_INSTABILITY')).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/^step 3, policy update, mini-batch 1\/2, micro-batch 2\/\d+: /);
      expect(message).toContain(fault === 'nanLossAtCall' ? 'the loss is NaN' : 'the gradient norm is NaN');
      expect((error as MasaError).details).toMatchObject({ step: 3, miniBatch: 1, microBatch: 2 });
      // optimStep was never called in step 3 and the weights are those of step 2.
      expect(harness.backend.counters.optimStep).toBe(before.optimStep);
      expect(Array.from(harness.backend.weights())).toEqual(weightsAtStep2);
      // The last checkpoint is intact, and resuming from it works.
      const latest = await findLatestCheckpoint(join(dir, 'checkpoints'));
      expect(latest?.step).toBe(2);
      expect((await verifyCheckpoint(latest?.path as string)).ok).toBe(true);
      const resumed = setup({ config, runDir: dir, train: learnable });
      expect((await train(resumed.options)).step).toBe(4);
    });
  }

  it('rejects non-finite old log-probs with the step and the sequence\'s place in the batch', async () => {
    const harness = setup({ config: makeConfig(['trainer.total_training_steps=1']), runDir: runDir(), train: learnable });
    const backend: PolicyBackend = {
      ...harness.backend,
      logprobs: async (batch) => batch.sequences.map((sequence, i) => sequence.responseTokenIds.map((_, t) => (i === 1 && t === 2 ? Number.NEGATIVE_INFINITY : -1))),
    };
    // 16 sequences in mini-batches of 8: the update scores sequences 8–15 (the first mini-batch's are its own), so the
    // second one scored is sequence 9 of the batch.
    await expect(train({ ...harness.options, backend })).rejects.toThrow(/step 1: the current policy gives log-prob -Infinity to token 2 of sequence 9;/);
    expect(harness.backend.counters.optimStep).toBe(0);
  });
});

describe('validation, abort and configuration errors', () => {
  it('validates before training, every test_freq steps and at the last step, without changing training', async () => {
    const validation = [{ name: 'val', problems: makeProblems(['easy', 'easy', 'hard'], 100) }];
    const withVal = setup({
      config: makeConfig(['trainer.total_training_steps=3', 'trainer.total_epochs=2', 'trainer.test_freq=2', 'trainer.val_before_train=true']),
      runDir: runDir(),
      train: learnable,
      validation,
    });
    const events = await collect(trainIter(withVal.options));
    const validations = events.filter((event) => event.type === 'validation-end') as Array<Extract<TrainEvent, { type: 'validation-end' }>>;
    expect(validations.map((event) => event.step)).toEqual([0, 2, 3]);
    // 2 of 3 validation problems are always solved.
    expect(validations[0]?.metrics).toEqual({ 'val-core/val/reward/mean@1': 2 / 3 });
    const valCall = withVal.engine.calls[0];
    expect(valCall?.requests[0]).toMatchObject({ n: 1, topP: 0.7, temperature: 1 });

    const without = setup({ config: makeConfig(['trainer.total_training_steps=3', 'trainer.total_epochs=2']), runDir: runDir(), train: learnable });
    await train(without.options);
    expect(Array.from(withVal.backend.weights())).toEqual(Array.from(without.backend.weights()));
  });

  it('stops at the next step boundary when aborted', async () => {
    const controller = new AbortController();
    const harness = setup({ config: makeConfig(['trainer.total_training_steps=2']), runDir: runDir(), train: learnable });
    await expect(
      train({
        ...harness.options,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'step-end') controller.abort();
        },
      }),
    ).rejects.toSatisfy((error: unknown) => MasaError.hasCode(error, 'ABORTED'));
    expect(harness.engine.calls.length).toBe(1);
  });

  it('clamps total_training_steps to the data and says so', async () => {
    const harness = setup({ config: makeConfig(['trainer.total_training_steps=5']), runDir: runDir(), train: learnable });
    const result = await train(harness.options);
    expect(result.step).toBe(2);
    expect(result.reason).toBe('completed');
    expect(result.warnings.map((warning) => warning.code)).toEqual(['steps-clamped']);
  });

  it('fails on a prompt longer than max_prompt_length, naming the problem', async () => {
    const harness = setup({ config: makeConfig(['data.max_prompt_length=8']), runDir: runDir(), train: learnable });
    await expect(train(harness.options)).rejects.toThrow(/problem learnable-\d+ of arith: its solution prompt has \d+ tokens, more than data.max_prompt_length = 8/);
  });
});
