import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MasaError, createRng, type Problem } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { answerText, makeConfig, makeProblems, setup, tempRunDir, type Difficulty } from './__tests__/arith-task.js';
import { createDataLoader } from './data-loader.js';
import type { TrainEvent } from './events.js';
import type { LossSpec, PolicyBackend, TrainBatch } from '@masa-rl/core';
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

const kinds: Difficulty[] = ['easy', 'hard', 'mixed', 'mixed', 'easy', 'hard', 'mixed', 'mixed'];
const dataset = { name: 'arith', problems: makeProblems(kinds) };
const MASA = [
  'masa.meta_n=2',
  'masa.meta_prompt_template=tiny',
  'data.max_response_length=128',
  'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=192',
  'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=192',
];

/** Kinds of the problems in batch `b` (0-based) of epoch 0, from the loader alone. */
function batchKinds(b: number, size = kinds.length, all = kinds): Difficulty[] {
  const loader = createDataLoader({ size, batchSize: 4, seed: 1 });
  for (let i = 0; i < b; i++) loader.next();
  return (loader.next()?.indices ?? []).map((index) => all[index] as Difficulty);
}

/** The meta reward of each kind, by hand (MASA-SPEC §6.3; inclusive length bounds, the default). */
const HAND_META_REWARD: Record<string, number> = {
  // all right, predicted 8/8: s_diff = 0.01^0 = 1; every correct length equals the prediction: s_len = 1; "carry" only in right answers: s_notion = 1.
  easy: (1 + 1 + 1) / 3,
  // all wrong, predicted 0/8: s_diff = 1; no correct rollout: s_len = 0; "carry" in 0 right − 0 wrong = 0, not > 0: s_notion = 0.
  hard: (0 + 1 + 0) / 3,
  // 2 of 4 right (p = 1/2), predicted 4/8: s_diff = 1; s_len = 1; "carry" in 2 right − 0 wrong > 0: s_notion = 1.
  mixed: (1 + 1 + 1) / 3,
};

function spyBackend(inner: PolicyBackend, calls: Array<{ batch: TrainBatch; loss: LossSpec }>): PolicyBackend {
  return {
    ...inner,
    forwardBackward: (batch, loss) => {
      calls.push({ batch, loss });
      return inner.forwardBackward(batch, loss);
    },
  };
}

describe('masa', () => {
  it('samples both branches in one call, rewards meta rollouts against the solution statistics, trains both', async () => {
    const harness = setup({ config: makeConfig(['trainer.total_training_steps=1', ...MASA], 'masa'), runDir: runDir(), train: dataset, engine: { deterministic: true } });
    const result = await train(harness.options);
    expect(harness.engine.calls.length).toBe(1);
    const requests = harness.engine.calls[0]?.requests ?? [];
    expect(requests.map((request) => [request.id.endsWith('_meta_cog'), request.n])).toEqual([
      [false, 4], [false, 4], [false, 4], [false, 4], [true, 2], [true, 2], [true, 2], [true, 2],
    ]);
    expect(requests[4]?.messages?.[0]?.content).toBe(`Meta: ${requests[0]?.messages?.[0]?.content}`);
    expect(requests[4]?.id).toBe(`${requests[0]?.id}_meta_cog`);
    const expected = batchKinds(0).map((kind) => HAND_META_REWARD[kind] as number);
    const metrics = result.lastMetrics ?? { step: 0 };
    expect(metrics['masa/meta_reward/mean']).toBeCloseTo(expected.reduce((a, b) => a + b, 0) / expected.length, 12);
    expect(metrics['masa/parse_rate']).toBe(1);
    expect(metrics['masa/pass_rate_mae']).toBe(0);
    expect(metrics['masa/phase']).toBe(0);
    // 4 × 4 solution + 4 × 2 meta = 24 sequences; verl's mini-batch 2 prompts × n 4 = 8 sequences → 3 optimiser steps.
    expect(metrics['actor/optimizer_steps']).toBe(3);
    // critic/score only counts solution rollouts.
    const solutionMean: number[] = batchKinds(0).map((kind) => (kind === 'easy' ? 1 : kind === 'hard' ? 0 : 0.5));
    expect(metrics['critic/score/mean']).toBeCloseTo(solutionMean.reduce((a, b) => a + b, 0) / 4, 12);
    const samples = readFileSync(join(harness.options.runDir as string, 'samples.jsonl'), 'utf8');
    expect(samples).toContain('"branch":"solution"');
  });

  it('takes one optimiser step per mini-batch of prompts when two_optimizer_steps is off', async () => {
    const harness = setup({
      config: makeConfig(['trainer.total_training_steps=1', 'masa.two_optimizer_steps=false', ...MASA], 'masa'),
      runDir: runDir(),
      train: dataset,
      engine: { deterministic: true },
    });
    const result = await train(harness.options);
    // mini-batch = 2 prompts × (n 4 + M 2) = 12 sequences → 24 / 12 = 2 steps.
    expect(result.lastMetrics?.['actor/optimizer_steps']).toBe(2);
  });
});

describe('masa-efficient', () => {
  it('after k calibration steps gates confident questions and caps the rest at l_LC × predicted length', async () => {
    const harness = setup({
      // The gating audit is off here (its own call is tested in masa-metrics.test.ts).
      config: makeConfig(['trainer.total_training_steps=2', 'masa.calibration_steps=1', 'masa.gating_audit_fraction=0', ...MASA], 'masa-efficient'),
      runDir: runDir(),
      train: dataset,
      engine: { deterministic: true, predictedLength: () => 5 },
    });
    const events: TrainEvent[] = [];
    for await (const event of trainIter(harness.options)) events.push(event);
    const steps = events.filter((event) => event.type === 'step-end') as Array<Extract<TrainEvent, { type: 'step-end' }>>;
    // Step 1 (calibration): one call with both branches. Step 2: meta first, then solutions for the survivors.
    expect(harness.engine.calls.length).toBe(3);
    expect(steps[0]?.metrics['masa/phase']).toBe(0);
    const metaCall = harness.engine.calls[1]?.requests ?? [];
    const solutionCall = harness.engine.calls[2]?.requests ?? [];
    expect(metaCall.every((request) => request.id.endsWith('_meta_cog'))).toBe(true);
    const second = batchKinds(1);
    const mixed = second.filter((kind) => kind === 'mixed').length;
    // Two identical predictions of 8/8 (easy) or 0/8 (hard): std 0, mean 1 or 0 → gated.
    expect(solutionCall.length).toBe(mixed);
    // Budget ceil(2 × 5) = 10 tokens, reported as a cutoff.
    expect(solutionCall.every((request) => request.maxNewTokens === 10 && request.budgetIsCutoff === true)).toBe(true);
    const metrics = steps[1]?.metrics ?? { step: 0 };
    expect(metrics).toMatchObject({
      'masa/phase': 1,
      'masa/gated_questions': 4 - mixed,
      'masa/gated_frac': (4 - mixed) / 4,
      'masa/gated_all_right': second.filter((kind) => kind === 'easy').length,
      'masa/gated_all_wrong': second.filter((kind) => kind === 'hard').length,
      'masa/cutoff_budget/mean': 10,
      'masa/cutoff_frac': 1,
    });
    // Only survivors are trained on: mixed × (4 solution + 2 meta) sequences, mini-batches of 8.
    expect(metrics['actor/optimizer_steps']).toBe(Math.ceil((mixed * 6) / 8));
  });
});

describe('dapo-masa', () => {
  it('drops zero-variance questions together with their meta groups and refills', async () => {
    const many: Difficulty[] = ['easy', 'hard', 'mixed', 'easy', 'hard', 'hard', 'mixed', 'easy', 'hard', 'mixed', 'easy', 'easy', 'hard', 'mixed', 'hard', 'mixed'];
    const harness = setup({
      config: makeConfig(['trainer.total_training_steps=1', ...MASA], 'dapo-masa'),
      runDir: runDir(),
      train: { name: 'arith', problems: makeProblems(many) },
      engine: { deterministic: true },
    });
    const calls: Array<{ batch: TrainBatch; loss: LossSpec }> = [];
    const result = await train({ ...harness.options, backend: spyBackend(harness.backend, calls) });
    let mixedSeen = 0;
    let rounds = 0;
    while (mixedSeen < 4) {
      mixedSeen += batchKinds(rounds, many.length, many).filter((kind) => kind === 'mixed').length;
      rounds += 1;
    }
    expect(harness.engine.calls.length).toBe(rounds);
    expect(result.lastMetrics).toMatchObject({ 'train/kept_groups': 4, 'train/num_gen_batches': rounds, 'critic/score/mean': 0.5 });
    // 4 kept questions × (4 + 2) sequences.
    expect(calls.reduce((sum, call) => sum + call.batch.sequences.length, 0)).toBe(24);
    expect(result.lastMetrics?.['masa/meta_reward/mean']).toBeCloseTo(HAND_META_REWARD['mixed'] as number, 12);
  });
});

describe('masa options', () => {
  it('behaviour-clones expert meta trajectories with their own learning rate, S at a time', async () => {
    const harness = setup({
      config: makeConfig(['trainer.total_training_steps=1', 'masa.expert_sft.enable=true', 'masa.expert_sft.batch_size=3', ...MASA], 'masa'),
      runDir: runDir(),
      train: dataset,
      engine: { deterministic: true },
    });
    const calls: Array<{ batch: TrainBatch; loss: LossSpec }> = [];
    const tokenize = (text: string): number[] => Array.from(text, (char) => char.charCodeAt(0));
    const result = await train({ ...harness.options, backend: spyBackend(harness.backend, calls), masa: { tokenizeTarget: tokenize } });
    const sft = calls.filter((call) => call.loss.kind === 'cross-entropy');
    const targets = sft.flatMap((call) => call.batch.sequences.map((sequence) => String.fromCharCode(...sequence.responseTokenIds)));
    // The first S = 3 questions of the batch, with their true statistics in the prompt's format.
    const problems: Problem[] = createDataLoader({ size: 8, batchSize: 4, seed: 1 }).next()?.indices.map((i) => dataset.problems[i] as Problem) ?? [];
    const expectedTargets = problems.slice(0, 3).map((problem) => {
      const kind = problem.meta?.['kind'];
      const right = answerText(problem, true).length;
      const wrong = answerText(problem, false).length;
      const passRate = kind === 'easy' ? 8 : kind === 'hard' ? 0 : 4;
      // solution_length: the mean right length; with no right answer, the mean of all lengths.
      const length = kind === 'hard' ? wrong : right;
      return `<meta>I think so.</meta>\n{"math_notion": ["carry"], "pass_rate": ${passRate}, "solution_length": ${length}}`;
    });
    expect(targets).toEqual(expectedTargets);
    // Token-mean over the S targets: every token weighs 1 / (total target tokens).
    const total = targets.reduce((sum, text) => sum + text.length, 0);
    for (const call of sft) for (const sequence of call.batch.sequences) expect(sequence.lossWeight).toBeCloseTo(1 / total, 15);
    expect(harness.backend.optimCalls.at(-1)).toMatchObject({ lr: 1e-5, maxGradNorm: 1 });
    expect(result.lastMetrics).toMatchObject({ 'masa/expert_sft/added': 4, 'masa/expert_sft/steps': 1, 'masa/expert_sft/buffer': 1 });
  });

  it('needs a target tokenizer for behaviour cloning, before any generation', async () => {
    const harness = setup({ config: makeConfig(['masa.expert_sft.enable=true', ...MASA], 'masa'), runDir: runDir(), train: dataset });
    await expect(trainIter(harness.options).next()).rejects.toSatisfy(
      (error: unknown) => MasaError.hasCode(error, 'CONFIG_INVALID') && (error as Error).message.includes('tokenizeTarget'),
    );
    expect(harness.engine.calls.length).toBe(0);
  });

  it('feeds predicted notions into the solution prompts (meta first)', async () => {
    const harness = setup({
      config: makeConfig([
        'trainer.total_training_steps=1',
        'masa.notion_feedin=true',
        ...MASA,
        'data.max_prompt_length=128',
        'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=256',
        'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=256',
      ], 'masa'),
      runDir: runDir(),
      train: dataset,
      engine: { deterministic: true },
    });
    await train(harness.options);
    expect(harness.engine.calls.length).toBe(2);
    const solutionRequests = harness.engine.calls[1]?.requests ?? [];
    for (const request of solutionRequests) {
      expect(request.messages?.[0]?.content).toMatch(/^Compute \d+ \+ \d+\.\n\n The problem could be solved using following math notions: \['carry'\]\. $/);
    }
  });

  it('uses the reference meta prompt by default', async () => {
    const harness = setup({
      config: makeConfig(['trainer.total_training_steps=1', 'masa.meta_n=1', 'data.max_response_length=128', 'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=192', 'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=192'], 'masa'),
      runDir: runDir(),
      train: dataset,
      engine: { deterministic: true },
    });
    // The reference prompt is longer than the 64-token prompt limit of this fixture.
    await expect(train(harness.options)).rejects.toThrow(/its meta prompt has \d+ tokens, more than data.max_prompt_length = 64/);
    const meta = harness.engine.calls[0]?.requests.find((request) => request.id.endsWith('_meta_cog'));
    expect(meta?.messages?.[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.' });
    expect(meta?.messages?.[1]?.content).toContain('- pass_rate (integer from 0 to 8)');
    expect(meta?.messages?.[1]?.content).toContain('- solution_length (integer from 128 to 128)');
    expect(meta?.messages?.[1]?.content).toMatch(/Problem: Compute \d+ \+ \d+\.$/);
  });

  it('rejects a solution_length range below 128 before any generation', async () => {
    const harness = setup({ config: makeConfig(['masa.meta_n=1'], 'masa'), runDir: runDir(), train: dataset });
    await expect(trainIter(harness.options).next()).rejects.toThrow(/masa.solution_length_max/);
    expect(harness.engine.calls.length).toBe(0);
  });
});

describe('masa kill and resume', () => {
  it('ends bit-identical after interruptions (masa-efficient with behaviour cloning)', async () => {
    const config = makeConfig(
      ['trainer.total_training_steps=4', 'trainer.total_epochs=2', 'trainer.save_freq=2', 'masa.calibration_steps=1', 'masa.expert_sft.enable=true', 'masa.expert_sft.batch_size=3', ...MASA],
      'masa-efficient',
    );
    const learnable = { name: 'arith', problems: makeProblems(Array.from({ length: 8 }, () => 'learnable' as const)) };
    const tokenize = (text: string): number[] => Array.from(text, (char) => char.charCodeAt(0));
    const run = async (dir: string, stopAfter = Number.POSITIVE_INFINITY) => {
      const harness = setup({ config, runDir: dir, train: learnable });
      const iterator = trainIter({ ...harness.options, masa: { tokenizeTarget: tokenize } });
      let seen = 0;
      for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
        seen += 1;
        if (seen >= stopAfter) {
          await iterator.return(undefined as never);
          break;
        }
      }
      return { backend: harness.backend, seen, metrics: readFileSync(join(dir, 'metrics.jsonl'), 'utf8') };
    };
    const reference = await run(runDir());
    expect(reference.metrics).toContain('masa/expert_sft/steps');
    const rng = createRng('masa-kills');
    for (let trial = 0; trial < 2; trial++) {
      const dir = runDir();
      await run(dir, rng.int(3, reference.seen - 2));
      const resumed = await run(dir);
      expect(Array.from(resumed.backend.weights())).toEqual(Array.from(reference.backend.weights()));
      expect(resumed.metrics).toBe(reference.metrics);
    }
  });
});
