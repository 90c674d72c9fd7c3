/**
 * The `ort` backend through the training app, end to end on the embedded
 * checkpoint (models/tiny-arith): two steps of `masa` and of
 * `masa-efficient` (gating from step 2) with small batches. Checked against
 * independent references: the metric names of the same run on the simulated
 * policy, a plain `\boxed{}` comparison of every logged sample with the
 * dataset's answer, and the model files themselves (stop tokens, weights).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDataset } from '@masa-rl/datasets';
import type { OrtEngine } from '@masa-rl/rollout';
import type { OrtPolicyBackend } from '@masa-rl/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './__tests__/fake-run.js';
import { createOrtPolicy, findRepoRoot, readStopTokenIds, resolveModelDir } from './ort-policy.js';
import { resolveTrainRun } from './resolve-run.js';
import { runTrainJob, type BackendKind, type JobMessage } from './train-job.js';

const repoRoot = findRepoRoot(process.cwd()) ?? process.cwd();

/** Two short steps; validation on the held-out set with one short sample each. */
const TWO_STEPS = [
  'data.train_batch_size=2',
  'data.max_response_length=160',
  'actor_rollout_ref.rollout.n=4',
  'actor_rollout_ref.rollout.val_kwargs.n=1',
  'masa.meta_n=2',
  'masa.calibration_steps=1',
  'trainer.total_training_steps=2',
  'trainer.test_freq=2',
  'trainer.save_freq=2',
  'trainer.samples_per_step=100',
] as const;

/** Metric names present only when the step's data has them. */
const DATA_DEPENDENT = /^(meta\/calibration\/reliability\/\d+\/true_pass_rate|gating\/(precision|recall))$/;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function run(algo: string, backend: BackendKind, extra: readonly string[] = []): Promise<{ runDir: string; messages: JobMessage[] }> {
  const runDir = tempDir(`ort-${algo}-${backend}`);
  dirs.push(runDir);
  const resolved = resolveTrainRun({ overrides: [...TWO_STEPS, ...extra], algo, runDir, cwd: repoRoot });
  const messages: JobMessage[] = [];
  await runTrainJob({ configText: resolved.configText, runDir, backend, cwd: repoRoot }, { emit: (message) => messages.push(message) });
  const failed = messages.find((message) => message.type === 'failed');
  if (failed?.type === 'failed') throw new Error(`${backend} run failed: ${failed.error.code} ${failed.error.message}`);
  return { runDir, messages };
}

const stepMetrics = (messages: JobMessage[]): Array<Record<string, number>> =>
  messages.flatMap((message) => (message.type === 'event' && message.event.type === 'step-end' ? [message.event.metrics] : []));

/** The last `\boxed{…}` of a response (written here, independent of the datasets grader). */
function lastBoxed(text: string): string | undefined {
  const at = text.lastIndexOf('\\boxed{');
  if (at < 0) return undefined;
  const end = text.indexOf('}', at);
  return end < 0 ? undefined : text.slice(at + '\\boxed{'.length, end).trim();
}

describe('the ort backend through the training app', () => {
  it('reads the stop tokens of models/tiny-arith (generation_config.json: <|im_end|> 98, <|endoftext|> 96)', () => {
    expect(readStopTokenIds(join(repoRoot, 'models/tiny-arith'))).toEqual([98, 96]);
  });

  it('resolves a relative model path against the cwd first, then the repository root, else names the key to set', () => {
    expect(resolveModelDir('models/tiny-arith', '/', repoRoot)).toBe(resolve(repoRoot, 'models/tiny-arith'));
    expect(() => resolveModelDir('models/none', '/', repoRoot)).toThrow(/actor_rollout_ref\.model\.path/);
  });

  it('runs the engine and the training graphs on trainer.threads ORT threads (one unless set)', async () => {
    for (const [overrides, expected] of [[[], 1], [['trainer.threads=2'], 2]] as const) {
      const { config } = resolveTrainRun({ overrides, runDir: tempDir('ort-threads'), cwd: repoRoot });
      const policy = await createOrtPolicy({ config, cwd: repoRoot });
      try {
        expect((policy.backend as OrtPolicyBackend).intraOpNumThreads).toBe(expected);
        expect((policy.engine as OrtEngine).intraOpNumThreads).toBe(expected);
      } finally {
        await policy.close();
      }
    }
    expect(() => resolveTrainRun({ overrides: ['trainer.threads=0'], runDir: tempDir('ort-threads'), cwd: repoRoot })).toThrow(/trainer\.threads/);
  });

  it('actor_rollout_ref.rollout.freeze_weights: the engine holds frozen weights and rebuilds them after each optimiser step', async () => {
    const { config } = resolveTrainRun({ overrides: ['actor_rollout_ref.rollout.freeze_weights=true'], runDir: tempDir('ort-freeze'), cwd: repoRoot });
    const policy = await createOrtPolicy({ config, cwd: repoRoot });
    try {
      const engine = policy.engine as OrtEngine;
      const request = { id: 'f', promptTokenIds: [10, 11, 12, 13], n: 2, seed: 3, maxNewTokens: 6 };
      const [before] = await engine.doGenerate([request]);
      await engine.doGenerate([request]);
      expect(engine.profile().sessionBuilds).toBe(1);
      // One large step on these very samples: the next generation must see it.
      const sequences = (before?.samples ?? []).map((sample) => ({ promptTokenIds: request.promptTokenIds, responseTokenIds: sample.tokenIds, lossWeight: 1 }));
      await policy.backend.forwardBackward({ sequences }, { kind: 'cross-entropy' });
      await policy.backend.optimStep({ lr: 0.05, maxGradNorm: 1e9, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 });
      const [after] = await engine.doGenerate([request]);
      expect(engine.profile().sessionBuilds).toBe(2);
      const [fromBackend] = await policy.backend.logprobs({ sequences: [{ promptTokenIds: request.promptTokenIds, responseTokenIds: after?.samples[0]?.tokenIds ?? [] }], temperature: 1 });
      after?.samples[0]?.logprobs.forEach((value, t) => expect(Math.abs(value - ((fromBackend as number[])[t] as number))).toBeLessThan(1e-4));
    } finally {
      await policy.close();
    }
  });

  describe.each(['masa', 'masa-efficient'])('%s', (algo) => {
    it('runs two steps with every metric of the simulated run, rewards from the arithmetic grader, a saved checkpoint', async () => {
      const [ort, fake] = [await run(algo, 'ort'), await run(algo, 'fake')];
      const start = ort.messages.find((message) => message.type === 'event' && message.event.type === 'run-start');
      expect(start).toMatchObject({ event: { backend: 'ort-cpu', engine: 'ort:qwen3' } });
      expect(ort.messages.at(-1)).toMatchObject({ type: 'done', step: 2, reason: 'completed' });

      const ortSteps = stepMetrics(ort.messages);
      const fakeSteps = stepMetrics(fake.messages);
      expect(ortSteps).toHaveLength(2);
      for (const [index, metrics] of ortSteps.entries()) {
        const keys = Object.keys(metrics);
        // Every field of the simulated run, except those that exist only for some data (a reliability bin's
        // true pass rate needs a prediction in that bin; gate precision/recall need a gated or solved question).
        const expected = Object.keys(fakeSteps[index] ?? {}).filter((key) => !DATA_DEPENDENT.test(key));
        expect(expected.length).toBeGreaterThan(40);
        expect(expected.filter((key) => !keys.includes(key))).toEqual([]);
        // The ORT backend's own PPO diagnostics on top (the simulated backend has none).
        for (const key of ['actor/ppo_kl', 'actor/ratio_mean', 'actor/pg_clipfrac_lower']) expect(keys).toContain(key);
        for (const key of keys) expect(Number.isFinite(metrics[key]), key).toBe(true);
      }
      if (algo === 'masa-efficient') {
        expect(ortSteps[0]?.['masa/phase']).toBe(0);
        expect(ortSteps[1]?.['masa/phase']).toBe(1);
      }
      // The validation before and after training, on the held-out set.
      const validations = ort.messages.filter((message) => message.type === 'event' && message.event.type === 'validation-end');
      expect(validations).toHaveLength(2);

      // Every logged solution sample: its reward is a boxed-integer match with the dataset's answer.
      const problems = new Map((await loadDataset('synthetic-arith')).problems.map((problem) => [problem.id, problem]));
      const samples = readFileSync(join(ort.runDir, 'samples.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { branch: string; problemId: string; response: string; score: number; finishReason: string });
      const solutions = samples.filter((sample) => sample.branch === 'solution');
      expect(solutions.length).toBeGreaterThan(0);
      for (const sample of solutions) {
        const answer = problems.get(sample.problemId)?.answer;
        expect(answer).toBeDefined();
        expect(sample.score).toBe(lastBoxed(sample.response) === answer ? 1 : 0);
      }
      // Stop tokens end the samples (a 160-token budget is twice the model's typical answer).
      expect(solutions.filter((sample) => sample.finishReason === 'stop').length).toBeGreaterThan(solutions.length / 2);

      // The checkpoint holds trained weights: a model folder that differs from the starting one.
      const saved = join(ort.runDir, 'checkpoints', 'step-2', 'weights', 'model.safetensors');
      expect(existsSync(saved)).toBe(true);
      expect(readFileSync(saved).equals(readFileSync(join(repoRoot, 'models/tiny-arith/model.safetensors')))).toBe(false);
    }, 60_000);
  });
});
