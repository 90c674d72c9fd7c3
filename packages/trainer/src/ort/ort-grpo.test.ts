/**
 * Issue 6 acceptance 2 on the real backend: GRPO through the trainer's loop (`trainIter`) and
 * the ORT backend teaches a tiny random model to "say the answer token", from chance to ≥ 0.9
 * mean reward. Rollouts come from the ORT engine of `@masa-rl/rollout` reading the backend's
 * weight arrays in place (so every optimiser step is seen by the next rollout without a copy),
 * and, as an independent check, from a minimal exact sampler written here that scores every
 * candidate token with the backend and draws from the softmax with a seeded generator.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, type Problem, type RolloutEngine, type RolloutResult } from '@masa-rl/core';
import { createOrtEngine } from '@masa-rl/rollout';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import type { RewardFunction } from '../reward.js';
import { trainIter } from '../train.js';
import { createTinyModel } from './__tests__/tiny-model.js';
import { createOrtPolicyBackend, type OrtPolicyBackend } from './ort-policy-backend.js';

const VOCAB = 13;
const PROMPT_START = 12;

/** Samples one-token responses exactly: p(v | prompt) for every v from the backend, then a seeded draw. */
function createOneTokenSampler(backend: OrtPolicyBackend): RolloutEngine {
  return {
    specificationVersion: 'v1',
    name: 'one-token-sampler',
    async doGenerate(requests) {
      const results: RolloutResult[] = [];
      for (const request of requests) {
        const prompt = [...(request.promptTokenIds ?? [])];
        const candidates = Array.from({ length: VOCAB }, (_, v) => ({ promptTokenIds: prompt, responseTokenIds: [v] }));
        const scored = await backend.logprobs({ sequences: candidates, temperature: request.temperature ?? 1 });
        const logp = scored.map((row) => row[0] as number);
        const rng = createRng(request.seed ?? 0);
        const samples = Array.from({ length: request.n ?? 1 }, () => {
          let u = rng.next();
          let token = VOCAB - 1;
          for (let v = 0; v < VOCAB; v++) {
            u -= Math.exp(logp[v] as number);
            if (u < 0) {
              token = v;
              break;
            }
          }
          return { tokenIds: [token], text: String(token), logprobs: [logp[token] as number], finishReason: 'length' as const };
        });
        results.push({ requestId: request.id, promptTokenIds: prompt, samples });
      }
      return results;
    },
  };
}

let runDir: string;
beforeAll(async () => {
  runDir = await mkdtemp(join(tmpdir(), 'ort-grpo-'));
});
afterAll(async () => {
  await rm(runDir, { recursive: true, force: true });
});

const engines = {
  'the ORT rollout engine on the backend\'s arrays': (backend: OrtPolicyBackend): RolloutEngine =>
    createOrtEngine({ config: backend.config, weights: backend.weights, maxBatchSize: 64 }),
  'an exact one-token sampler': createOneTokenSampler,
};

describe.each(Object.entries(engines))('GRPO on the ORT backend with %s', (_, createEngine) => {
  it('lifts the mean reward from chance to ≥ 0.9 on "say the answer token"', async () => {
    const problems: Problem[] = Array.from({ length: 8 }, (_, a) => ({ id: `p${a}`, question: String(a), answer: String((5 * a + 3) % 11) }));
    await using backend = await createOrtPolicyBackend({ model: createTinyModel({ seed: 5, dtype: 'float32', hiddenSize: 32, initStd: 0.02 }) });
    const engine = createEngine(backend);
    const reward: RewardFunction = ({ problem, completion }) => (completion.tokenIds?.[0] === Number(problem.answer) ? 1 : 0);
    const config = resolveConfig({
      overrides: [
        'data.train_files=say-the-answer',
        'data.train_batch_size=8',
        'data.max_prompt_length=2',
        'data.max_response_length=1',
        'actor_rollout_ref.rollout.n=8',
        'actor_rollout_ref.actor.optim.lr=0.01',
        'actor_rollout_ref.actor.optim.lr_warmup_steps=0',
        'actor_rollout_ref.actor.optim.weight_decay=0',
        'trainer.total_epochs=60',
        'trainer.total_training_steps=60',
        'trainer.test_freq=-1',
        'trainer.save_freq=-1',
        'trainer.val_before_train=false',
        'trainer.samples_per_step=0',
      ],
      algo: 'grpo',
    });
    const scores: number[] = [];
    try {
      for await (const event of trainIter({
        config,
        engine,
        backend,
        train: { name: 'say-the-answer', problems },
        reward,
        buildPrompt: ({ problem }) => ({ promptTokenIds: [PROMPT_START, Number(problem.question)] }),
        runDir,
      })) {
        if (event.type === 'step-end') scores.push(event.metrics['critic/score/mean'] as number);
      }
    } finally {
      await engine.close?.();
    }
    expect(scores).toHaveLength(60);
    expect(scores[0]).toBeLessThan(0.25); // chance is 1/13
    const last = scores.slice(-5);
    expect(last.reduce((a, b) => a + b, 0) / last.length).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});

describe('where PPO\'s old log-probs come from', () => {
  it('rollout (recompute_old_log_prob: false) and one optimiser step (on-policy) skip the scoring pass; two mini-batches make it', async () => {
    const problems: Problem[] = Array.from({ length: 4 }, (_, a) => ({ id: `p${a}`, question: String(a), answer: String((5 * a + 3) % 11) }));
    const reward: RewardFunction = ({ problem, completion }) => (completion.tokenIds?.includes(Number(problem.answer)) === true ? 1 : 0);
    const run = async (recompute: boolean, miniBatchPrompts = 4): Promise<{ metrics: Array<Record<string, number>>; currentScorings: number }> => {
      await using backend = await createOrtPolicyBackend({ model: createTinyModel({ seed: 9, dtype: 'float32', hiddenSize: 32, initStd: 0.3 }) });
      let currentScorings = 0;
      // The backend, counting its scoring passes of the current policy.
      const counted = new Proxy(backend, {
        get(target, property, receiver) {
          if (property !== 'logprobs') return Reflect.get(target, property, receiver);
          return (batch: Parameters<OrtPolicyBackend['logprobs']>[0], options?: Parameters<OrtPolicyBackend['logprobs']>[1]) => {
            if ((options?.policy ?? 'current') === 'current') currentScorings += 1;
            return target.logprobs(batch, options);
          };
        },
      });
      const engine = createOrtEngine({ config: backend.config, weights: backend.weights, maxBatchSize: 64 });
      const config = resolveConfig({
        overrides: [
          'data.train_files=say-the-answer',
          'data.train_batch_size=4',
          'data.max_prompt_length=2',
          'data.max_response_length=5',
          'actor_rollout_ref.rollout.n=4',
          'actor_rollout_ref.rollout.temperature=1.3',
          `actor_rollout_ref.actor.recompute_old_log_prob=${recompute}`,
          `actor_rollout_ref.actor.ppo_mini_batch_size=${miniBatchPrompts}`,
          'trainer.total_epochs=2',
          'trainer.total_training_steps=2',
          'trainer.test_freq=-1',
          'trainer.save_freq=-1',
          'trainer.val_before_train=false',
          'trainer.samples_per_step=0',
        ],
        algo: 'grpo',
      });
      const metrics: Array<Record<string, number>> = [];
      try {
        for await (const event of trainIter({ config, engine, backend: counted, train: { name: 'say-the-answer', problems }, reward, buildPrompt: ({ problem }) => ({ promptTokenIds: [PROMPT_START, Number(problem.question)] }), runDir })) {
          if (event.type === 'step-end') metrics.push(event.metrics as Record<string, number>);
        }
      } finally {
        await engine.close();
      }
      return { metrics, currentScorings };
    };
    const fromRollout = await run(false);
    const onPolicy = await run(true);
    const recomputed = await run(true, 2); // two mini-batches of 2 prompts × 4 samples: two optimiser steps a batch
    expect(fromRollout.currentScorings).toBe(0);
    expect(onPolicy.currentScorings).toBe(0);
    expect(recomputed.currentScorings).toBe(2); // one scoring pass per step
    for (const { metrics } of [fromRollout, onPolicy, recomputed]) expect(metrics).toHaveLength(2);
    for (const step of recomputed.metrics) expect(step['actor/optimizer_steps']).toBe(2);
    // One mini-batch per step: the update's forward is the policy that sampled. From the rollout, the ratio is 1 up to
    // the engine's and the training graph's float32 rounding (at temperature 1.3, as the rollout sampled); on-policy
    // the old log-probs are the update's own, so it is exactly 1.
    for (const step of fromRollout.metrics) {
      expect(Math.abs((step['actor/ratio_mean'] as number) - 1)).toBeLessThan(1e-4);
      expect(Math.abs(step['actor/ppo_kl'] as number)).toBeLessThan(1e-5);
    }
    for (const step of onPolicy.metrics) {
      expect(step['actor/optimizer_steps']).toBe(1);
      expect(step['actor/ratio_mean']).toBe(1);
      expect(step['actor/ppo_kl']).toBe(0);
      expect(step['actor/pg_clipfrac']).toBe(0);
    }
  }, 90_000);

  it('is refused with top-p or top-k sampling, naming the keys', () => {
    expect(() => resolveConfig({ overrides: ['data.train_files=x', 'actor_rollout_ref.actor.recompute_old_log_prob=false', 'actor_rollout_ref.rollout.top_p=0.9'] })).toThrow(
      /actor_rollout_ref\.actor\.recompute_old_log_prob.*top_p = 0\.9/s,
    );
    expect(() => resolveConfig({ overrides: ['data.train_files=x', 'actor_rollout_ref.actor.recompute_old_log_prob=false', 'actor_rollout_ref.rollout.top_k=20'] })).toThrow(/top_k = 20/);
  });
});
