/** The README example, run as a test (through the source, not the built package). */
import { rm } from 'node:fs/promises';
import { afterEach, expect, it } from 'vitest';
import { tempRunDir } from './__tests__/arith-task.js';
import { resolveConfig } from './config.js';
import { createBoxedMatchReward } from './reward.js';
import { createFakeBackend } from './test/fake-backend.js';
import { createScriptedEngine } from './test/scripted-engine.js';
import { trainIter } from './train.js';

const runDir = tempRunDir();
afterEach(async () => {
  await rm(runDir, { recursive: true, force: true });
});

it('runs the README example', async () => {
  const problems = Array.from({ length: 8 }, (_, i) => ({ id: `p${i}`, question: `Compute ${i} + 2.`, answer: String(i + 2) }));
  const backend = createFakeBackend({ seed: 1 });
  const engine = createScriptedEngine({
    respond: ({ promptText, sampleIndex }) => {
      const problem = problems.find((p) => p.question === promptText);
      if (problem === undefined) throw new Error('unknown prompt');
      return `The answer is \\boxed{${sampleIndex % 2 === 0 ? problem.answer : 'x'}}.`;
    },
  });
  const config = resolveConfig({
    overrides: [
      'data.train_files=toy', 'data.train_batch_size=4', 'data.max_prompt_length=32', 'data.max_response_length=32',
      'actor_rollout_ref.rollout.n=4', 'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=64',
      'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=64', 'trainer.save_freq=1',
    ],
    algo: 'grpo',
  });
  const lines: Array<[number, number | undefined]> = [];
  for await (const event of trainIter({ config, engine, backend, train: { name: 'toy', problems }, reward: createBoxedMatchReward(), runDir })) {
    if (event.type === 'step-end') lines.push([event.step, event.metrics['critic/score/mean']]);
  }
  expect(lines).toEqual([[1, 0.5], [2, 0.5]]);
});
