import { MasaError, createRng, type ForwardBackwardResult, type LossSpec, type TrainBatch, type TrainSequence } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { policyLossSpec, rolloutLogprobs, runPolicyUpdate } from './policy-update.js';
import { createFakeBackend } from './test/fake-backend.js';

describe('rolloutLogprobs (old log-probs taken from the rollout)', () => {
  it('gives one log-prob per sampled token, a copy', () => {
    const record = { responseTokenIds: [4, 7, 1], samplingLogprobs: [-0.5, -1.25, 0] };
    const taken = rolloutLogprobs(record, 3);
    expect(taken).toEqual([-0.5, -1.25, 0]);
    expect(taken).not.toBe(record.samplingLogprobs);
  });

  it('refuses an engine that did not report them (a count that differs, NaN, a positive value), naming the key', () => {
    for (const samplingLogprobs of [[], [-0.5, -1], [-0.5, Number.NaN, -1], [-0.5, 0.25, -1]]) {
      let caught: unknown;
      try {
        rolloutLogprobs({ responseTokenIds: [4, 7, 1], samplingLogprobs }, 5);
      } catch (error: unknown) {
        caught = error;
      }
      expect(MasaError.hasCode(caught, 'ENGINE_FAILED')).toBe(true);
      expect((caught as MasaError).message).toContain('actor_rollout_ref.actor.recompute_old_log_prob');
      expect((caught as MasaError).message).toContain('step 5');
    }
  });
});

describe('runPolicyUpdate: old log-probs the sequences lack', () => {
  const sequences = Array.from({ length: 8 }, (_, i): Omit<TrainSequence, 'lossWeight'> => ({
    promptTokenIds: [1 + (i % 3)],
    responseTokenIds: Array.from({ length: 1 + (i % 4) }, (_, j) => (i * 5 + j) % 7),
    advantage: i % 2 === 0 ? 0.7 : -0.4,
  }));
  /** A fake backend that records each forwardBackward call's loss and sequences, and the optimiser steps before it. */
  const recording = () => {
    const backend = createFakeBackend({ parameters: 6, seed: 4 });
    const calls: Array<{ loss: LossSpec; batch: TrainBatch; stepsBefore: number }> = [];
    const forwardBackward = backend.forwardBackward.bind(backend);
    backend.forwardBackward = (batch: TrainBatch, loss: LossSpec): Promise<ForwardBackwardResult> => {
      calls.push({ loss, batch, stepsBefore: backend.counters.optimStep });
      return forwardBackward(batch, loss);
    };
    return { backend, calls };
  };
  const run = async (overrides: string[], epochs?: number) => {
    const config = resolveConfig({ overrides: ['data.train_files=x', ...overrides] });
    const { backend, calls } = recording();
    const scoring: Array<{ indices: number[]; stepsBefore: number }> = [];
    const scorer = createFakeBackend({ parameters: 6, seed: 4 }); // the same weights: the policy before the update
    const result = await runPolicyUpdate({
      backend,
      config,
      sequences,
      loss: policyLossSpec(config),
      miniBatchSize: 3,
      lr: 0.05,
      step: 1,
      rng: createRng(2),
      ...(epochs === undefined ? {} : { epochs }),
      scoreOldLogprobs: async (indices) => {
        scoring.push({ indices: [...indices], stepsBefore: backend.counters.optimStep });
        return scorer.logprobs({ sequences: indices.map((index) => sequences[index] as TrainSequence), temperature: config.actor_rollout_ref.rollout.temperature });
      },
    });
    return { calls, scoring, result, scorer };
  };

  for (const shuffle of [false, true]) {
    it(`scores all but the first mini-batch once, before any step, and trains the first on-policy (shuffle ${shuffle})`, async () => {
      const { calls, scoring, result, scorer } = await run([`actor_rollout_ref.actor.shuffle=${shuffle}`]);
      expect(result.optimizerSteps).toBe(3); // 8 sequences in mini-batches of 3, 3, 2
      expect(scoring).toHaveLength(1);
      expect(scoring[0]?.stepsBefore).toBe(0);
      const firstMini = calls.filter((call) => call.stepsBefore === 0);
      const later = calls.filter((call) => call.stepsBefore > 0);
      expect(firstMini.length).toBeGreaterThan(0);
      expect(later.length).toBeGreaterThan(0);
      for (const call of firstMini) {
        expect(call.loss).toMatchObject({ kind: 'policy', onPolicy: true });
        for (const sequence of call.batch.sequences) expect(sequence.oldLogprobs).toBeUndefined();
      }
      // The first mini-batch's sequences are exactly those not scored; the rest carry the scored log-probs.
      const trainedFirst = firstMini.flatMap((call) => call.batch.sequences.map((sequence) => sequences.findIndex((s) => s.responseTokenIds === sequence.responseTokenIds)));
      expect([...trainedFirst, ...(scoring[0]?.indices ?? [])].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(trainedFirst).toHaveLength(3);
      const expected = await scorer.logprobs({ sequences: sequences as TrainSequence[], temperature: 1 });
      for (const call of later) {
        expect((call.loss as { onPolicy?: boolean }).onPolicy).toBeUndefined();
        for (const sequence of call.batch.sequences) {
          const index = sequences.findIndex((s) => s.responseTokenIds === sequence.responseTokenIds);
          expect(sequence.oldLogprobs).toEqual(expected[index]);
        }
      }
    });
  }

  it('with two PPO epochs scores every sequence and trains none on-policy', async () => {
    const { calls, scoring } = await run([], 2);
    expect(scoring).toHaveLength(1);
    expect(scoring[0]?.indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const call of calls) expect((call.loss as { onPolicy?: boolean }).onPolicy).toBeUndefined();
  });

  it('leaves sequences that carry old log-probs alone (no scoring, no on-policy batch)', async () => {
    const config = resolveConfig({ overrides: ['data.train_files=x'] });
    const { backend, calls } = recording();
    let scored = 0;
    await runPolicyUpdate({
      backend,
      config,
      sequences: sequences.map((sequence) => ({ ...sequence, oldLogprobs: sequence.responseTokenIds.map(() => -1) })),
      loss: policyLossSpec(config),
      miniBatchSize: 3,
      lr: 0.05,
      step: 1,
      rng: createRng(2),
      scoreOldLogprobs: async () => {
        scored += 1;
        return [];
      },
    });
    expect(scored).toBe(0);
    for (const call of calls) expect((call.loss as { onPolicy?: boolean }).onPolicy).toBeUndefined();
  });
});
