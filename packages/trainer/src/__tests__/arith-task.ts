/**
 * A tiny scripted task for loop tests: addition problems whose answers the
 * scripted engine gets right with a probability that depends on the problem
 * and on the fake backend's current weights, so training changes what is
 * sampled next and a resume that misses any state diverges.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '@masa-rl/core';
import type { TrainDataset } from '../algorithm.js';
import { resolveConfig } from '../config.js';
import type { TrainerConfig } from '../config-schema.js';
import { createBoxedMatchReward } from '../reward.js';
import { createFakeBackend, type FakeBackend } from '../test/fake-backend.js';
import { createScriptedEngine, type ScriptedEngine } from '../test/scripted-engine.js';
import type { TrainOptions } from '../train.js';

export type Difficulty = 'easy' | 'hard' | 'mixed' | 'learnable';

/** Problems `kind-i` with question `Compute i + (i+3).`; `start` shifts i so that two sets never share a question. */
export function makeProblems(kinds: readonly Difficulty[], start = 0): Problem[] {
  return kinds.map((kind, index) => {
    const i = start + index;
    return {
      id: `${kind}-${i}`,
      question: `Compute ${i} + ${i + 3}.`,
      answer: String(2 * i + 3),
      meta: { kind },
    };
  });
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The text of a right (with the notion word `carry`) or wrong answer. */
export function answerText(problem: Problem, correct: boolean, thinking = ''): string {
  return correct ? `${thinking}carry. The answer is \\boxed{${problem.answer}}.` : `${thinking}The answer is \\boxed{${Number(problem.answer) + 1}}.`;
}

export interface EngineOptions {
  /** No random `ok ` padding: every right (wrong) answer of a problem has the same text. @default false */
  deterministic?: boolean;
  /** The solution_length a meta rollout predicts. @default the length of the right answer */
  predictedLength?: (problem: Problem) => number;
}

/**
 * The engine: easy → always right, hard → always wrong, mixed → right on even samples, learnable → depends on
 * the weights. Meta prompts (`Meta: ` + question, or the reference layout ending in `Problem: ` + question) get a compact JSON prediction: pass_rate 8
 * (easy), 0 (hard), 4 (mixed) or a random count (learnable), notion `carry`.
 */
export function makeEngine(problems: readonly Problem[], backend: FakeBackend | undefined, options: EngineOptions = {}): ScriptedEngine {
  const byQuestion = new Map(problems.map((problem) => [problem.question, problem]));
  const find = (text: string): Problem => {
    const problem = byQuestion.get(text.split('\n\n')[0] as string);
    if (problem === undefined) throw new Error(`unknown prompt ${text}`);
    return problem;
  };
  return createScriptedEngine({
    respond: ({ promptText, sampleIndex, rng }) => {
      const metaQuestion = promptText.startsWith('Meta: ')
        ? promptText.slice('Meta: '.length)
        : promptText.includes('Problem: ')
          ? (promptText.split('Problem: ').pop() as string).trim()
          : undefined;
      if (metaQuestion !== undefined) {
        const problem = find(metaQuestion);
        const kind = problem.meta?.['kind'] as Difficulty;
        const passRate = kind === 'easy' ? 8 : kind === 'hard' ? 0 : kind === 'mixed' ? 4 : rng.int(0, 8);
        const length = options.predictedLength?.(problem) ?? answerText(problem, true).length;
        return `<meta>I think so.</meta>\n{"math_notion": ["carry"], "pass_rate": ${passRate}, "solution_length": ${length}}`;
      }
      const problem = find(promptText);
      const kind = problem.meta?.['kind'] as Difficulty;
      let correct: boolean;
      if (kind === 'easy') correct = true;
      else if (kind === 'hard') correct = false;
      else if (kind === 'mixed') correct = sampleIndex % 2 === 0;
      else {
        const w = backend?.weights() ?? new Float64Array(8);
        correct = rng.next() < sigmoid(4 * ((w[1] as number) - (w[2] as number)) + ((problem.id.length % 3) - 1));
      }
      const thinking = options.deterministic === true ? '' : 'ok '.repeat(rng.int(0, 4));
      return answerText(problem, correct, thinking);
    },
  });
}

export const TEST_OVERRIDES = [
  'data.train_files=arith',
  'data.train_batch_size=4',
  'data.max_prompt_length=64',
  'data.max_response_length=64',
  'actor_rollout_ref.rollout.n=4',
  'actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=128',
  'actor_rollout_ref.actor.ppo_mini_batch_size=2',
  'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=128',
  'actor_rollout_ref.actor.optim.lr=0.05',
  'actor_rollout_ref.actor.optim.lr_warmup_steps=2',
  'trainer.test_freq=-1',
  'trainer.save_freq=1',
  'trainer.val_before_train=false',
  'trainer.samples_per_step=2',
];

export function makeConfig(extra: readonly string[] = [], algo?: TrainerConfig['algorithm']['name']): TrainerConfig {
  return resolveConfig({ overrides: [...TEST_OVERRIDES, ...extra], ...(algo === undefined ? {} : { algo }) });
}

export function tempRunDir(): string {
  return mkdtempSync(join(tmpdir(), 'masa-train-'));
}

export interface Setup {
  options: TrainOptions;
  backend: FakeBackend;
  engine: ScriptedEngine;
}

/** A fresh backend + engine + options, as a new process would build them. */
export function setup(input: {
  config: TrainerConfig;
  runDir: string;
  train: TrainDataset;
  validation?: TrainDataset[];
  faults?: NonNullable<Parameters<typeof createFakeBackend>[0]>['faults'];
  engine?: EngineOptions;
}): Setup {
  const backend = createFakeBackend({ seed: 11, ...(input.faults === undefined ? {} : { faults: input.faults }) });
  const allProblems = [...input.train.problems, ...(input.validation ?? []).flatMap((dataset) => dataset.problems)];
  const engine = makeEngine(allProblems, backend, input.engine);
  return {
    backend,
    engine,
    options: {
      config: input.config,
      engine,
      backend,
      train: input.train,
      ...(input.validation === undefined ? {} : { validation: input.validation }),
      reward: createBoxedMatchReward(),
      runDir: input.runDir,
      now: () => 0,
    },
  };
}
