// Child process for the SIGKILL test: trains a scripted task with the built package (dist/), printing
// "step-end N" after each step and the final weights at the end. Usage: node kill-child.mjs RUN_DIR
import { createBoxedMatchReward, resolveConfig, train } from '../../dist/index.js';
import { createFakeBackend, createScriptedEngine } from '../../dist/test/index.js';

const runDir = process.argv[2];
const problems = Array.from({ length: 12 }, (_, i) => ({ id: `p${i}`, question: `Compute ${i} + ${i + 3}.`, answer: String(2 * i + 3) }));
const backend = createFakeBackend({ seed: 11 });
const engine = createScriptedEngine({
  respond: ({ promptText, rng }) => {
    const problem = problems.find((candidate) => candidate.question === promptText);
    const w = backend.weights();
    const correct = rng.next() < 1 / (1 + Math.exp(-4 * (w[1] - w[2])));
    const answer = correct ? problem.answer : String(Number(problem.answer) + 1);
    return `${'ok '.repeat(rng.int(0, 4))}The answer is \\boxed{${answer}}.`;
  },
});
const config = resolveConfig({
  overrides: [
    'data.train_files=arith',
    'data.train_batch_size=4',
    'data.max_prompt_length=64',
    'data.max_response_length=64',
    'actor_rollout_ref.rollout.n=4',
    'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=128',
    'actor_rollout_ref.actor.ppo_mini_batch_size=2',
    'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=128',
    'actor_rollout_ref.actor.optim.lr=0.05',
    'trainer.total_epochs=4',
    'trainer.test_freq=-1',
    'trainer.save_freq=1',
    'trainer.val_before_train=false',
  ],
});
await train({
  config,
  engine,
  backend,
  train: { name: 'arith', problems },
  reward: createBoxedMatchReward(),
  runDir,
  now: () => 0,
  onEvent: (event) => {
    if (event.type === 'step-end') process.stdout.write(`step-end ${event.step}\n`);
  },
});
process.stdout.write(`weights ${JSON.stringify(Array.from(backend.weights()))}\n`);
