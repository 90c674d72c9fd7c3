import { rm } from 'node:fs/promises';
import type { Problem } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { answerText, makeConfig, makeProblems, setup, tempRunDir, type Difficulty } from './__tests__/arith-task.js';
import type { TrainEvent } from './events.js';
import { createScriptedEngine } from './test/scripted-engine.js';
import { train } from './train.js';

const dirs: string[] = [];
const runDir = (): string => {
  const dir = tempRunDir();
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const trainSet = { name: 'arith', problems: makeProblems(['easy', 'hard', 'mixed', 'mixed']) };
const valSet = { name: 'val', problems: makeProblems(['easy', 'hard', 'mixed'], 100) };
const all = [...trainSet.problems, ...valSet.problems];
const MASA = [
  'masa.meta_n=2',
  'masa.meta_prompt_template=tiny',
  'data.max_response_length=128',
  'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=192',
  'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=192',
  'actor_rollout_ref.rollout.val_kwargs.n=4',
  'trainer.val_before_train=true',
  'trainer.test_freq=1',
  'trainer.total_training_steps=1',
];

/** Scripted meta outputs of the validation problems, per meta sample index (null = unparseable). */
const VAL_META: Record<string, Array<number | null>> = { 'easy-100': [6, null], 'hard-101': [2, 0], 'mixed-102': [4, 8] };

/**
 * Validation meta prompts get the scripted predictions above, training meta prompts
 * exact ones; solutions are deterministic (easy right, hard wrong, mixed right on even samples).
 */
function scriptedEngine(problems: readonly Problem[]) {
  const byQuestion = new Map(problems.map((problem) => [problem.question, problem]));
  const engine = createScriptedEngine({
    respond: ({ promptText, sampleIndex }) => {
      if (promptText.startsWith('Meta: ')) {
        const problem = byQuestion.get(promptText.slice('Meta: '.length)) as Problem;
        const script = VAL_META[problem.id];
        if (script !== undefined) {
          const count = script[sampleIndex % script.length] ?? null;
          if (count === null) return 'I cannot say.';
          return `<meta>hm</meta>\n{"math_notion": ["carry"], "pass_rate": ${count}, "solution_length": ${answerText(problem, true).length}}`;
        }
        const kind = problem.meta?.['kind'] as Difficulty;
        const passRate = kind === 'easy' ? 8 : kind === 'hard' ? 0 : 4;
        return `<meta>x</meta>\n{"math_notion": ["carry"], "pass_rate": ${passRate}, "solution_length": ${answerText(problem, true).length}}`;
      }
      const problem = byQuestion.get(promptText) as Problem;
      const kind = problem.meta?.['kind'] as Difficulty;
      return answerText(problem, kind === 'easy' || (kind === 'mixed' && sampleIndex % 2 === 0));
    },
  });
  return engine;
}

async function run(extra: readonly string[], algo: 'masa' | 'grpo' = 'masa') {
  const harness = setup({ config: makeConfig([...MASA, ...extra], algo), runDir: runDir(), train: trainSet, validation: [valSet] });
  const engine = scriptedEngine(all);
  const events: TrainEvent[] = [];
  const result = await train({ ...harness.options, engine, onEvent: (event) => events.push(event) });
  const validations = events.filter((event) => event.type === 'validation-end') as Array<Extract<TrainEvent, { type: 'validation-end' }>>;
  return { result, validations, weights: Array.from(harness.backend.weights()), engine };
}

describe('held-out meta validation', () => {
  it('scores scripted meta predictions against the validation pass counts (hand-computed)', async () => {
    const { validations } = await run(['masa.val_meta_n=2']);
    expect(validations.map((event) => event.step)).toEqual([0, 1]);
    const metrics = validations[0]?.metrics ?? {};
    // True pass counts out of 8 (n = 4 samples): easy 8, hard 0, mixed 2/4 → 4.
    // Valid (predicted, true) pairs: (6, 8), (2, 0), (0, 0), (4, 4), (8, 4); one of six did not parse.
    expect(metrics['val-meta/val/parse_rate']).toBeCloseTo(5 / 6, 12);
    expect(metrics['val-meta/val/count']).toBe(5);
    // |errors| = 2, 2, 0, 0, 4 → 8 / 5 pass counts.
    expect(metrics['val-meta/val/pass_rate_mae']).toBeCloseTo(1.6, 12);
    expect(metrics['val-meta/val/pass_rate_mae_rate']).toBeCloseTo(0.2, 12);
    // Pearson: dx = 2, −2, −4, 0, 4; dy = 4.8, −3.2, −3.2, 0.8, 0.8 → Σdxdy = 32, Σdx² = 40, Σdy² = 44.8.
    expect(metrics['val-meta/val/pearson']).toBeCloseTo(32 / Math.sqrt(40 * 44.8), 12);
    // Meta reward (notion + 0.01^|p̂ − p| + length) / 3, MASA-SPEC §6.3:
    //   easy 6/8: notion 1 (carry only in right answers), diff 0.01^0.25, length 1; unparsed: 0.
    //   hard 2/8: no right answer → notion 0, length 0; diff 0.01^0.25. hard 0/8: diff 1.
    //   mixed 4/8: 1 + 1 + 1. mixed 8/8: 1 + 0.01^0.5 + 1.
    const q = 0.01 ** 0.25;
    const hand = [(2 + q) / 3, 0, q / 3, 1 / 3, 1, (2 + 0.1) / 3];
    expect(metrics['val-meta/val/score']).toBeCloseTo(hand.reduce((a, b) => a + b, 0) / 6, 12);
  });

  it('defaults to meta_n, turns off with 0, is absent for grpo, and never changes training', async () => {
    const on = await run([]);
    const off = await run(['masa.val_meta_n=0']);
    expect(on.validations[0]?.metrics['val-meta/val/count']).toBe(5); // meta_n = 2 samples per problem
    expect(Object.keys(off.validations[0]?.metrics ?? {}).some((key) => key.startsWith('val-meta/'))).toBe(false);
    expect(on.weights).toEqual(off.weights);
    const training = (metrics: Record<string, number> | undefined) =>
      Object.fromEntries(Object.entries(metrics ?? {}).filter(([key]) => !key.startsWith('val-') && !key.startsWith('timing_s/')));
    expect(training(on.result.lastMetrics)).toEqual(training(off.result.lastMetrics));
    const grpo = await run([], 'grpo');
    expect(Object.keys(grpo.validations[0]?.metrics ?? {}).some((key) => key.startsWith('val-meta/'))).toBe(false);
  });
});
