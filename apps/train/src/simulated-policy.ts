/**
 * `--backend fake`: a simulated policy for trying the app and the dashboard
 * without a model (and for the app's tests). It pairs the trainer's test
 * doubles — the fake backend (a few float64 weights trained with the real
 * PPO loss and AdamW) and the scripted engine — with a response model for
 * the synthetic arithmetic task: the chance of a right answer falls with the
 * number of operations and digits and rises with a "skill" that grows as the
 * fake backend's weights move away from their start; meta predictions are
 * optimistic and noisy at first and sharpen with skill. Every sample is a
 * function of the request's seed and the weights, so runs are reproducible and
 * resume bit-identically.
 */
import type { Problem, Rng } from '@masa-rl/core';
import { arithMetaTarget, parseArithProblem, sampleArithSolution, type ArithProblem } from '@masa-rl/datasets';
import { createFakeBackend, createScriptedEngine, type FakeBackend, type ScriptedEngine } from '@masa-rl/trainer/test';

export interface SimulatedPolicyOptions {
  /** Problems the engine may be asked about (training and validation). */
  problems: readonly Problem[];
  /** Seed of the fake backend's initial weights. @default 0 */
  seed?: number;
  /** Pseudo-weights of the fake backend. @default 16 */
  parameters?: number;
  /** Skill per unit of mean absolute weight change. @default 40 */
  skillScale?: number;
}

export interface SimulatedPolicy {
  engine: ScriptedEngine;
  backend: FakeBackend;
  /** The current skill (≥ 0), from the backend's weights. */
  skill(): number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

const parsedCache = new WeakMap<Problem, ArithProblem | null>();
function arithOf(problem: Problem): ArithProblem | null {
  let parsed = parsedCache.get(problem);
  if (parsed === undefined) {
    try {
      parsed = parseArithProblem(problem.question);
    } catch {
      parsed = null;
    }
    parsedCache.set(problem, parsed);
  }
  return parsed;
}

/** Probability that the simulated policy answers a problem right at a given skill. */
export function simulatedPassProbability(problem: Problem, skill: number): number {
  const arith = arithOf(problem);
  if (arith === null) return sigmoid(skill - 0.5);
  const operations = arith.steps.length;
  const digits = Math.max(1, ...arith.steps.map((step) => String(Math.max(step.a, step.b)).length));
  return sigmoid(2.2 - 0.75 * (operations - 1) - 0.6 * (digits - 1) + 1.6 * skill);
}

function wrongAnswer(answer: string, rng: Rng): string {
  const value = Number(answer);
  if (!Number.isFinite(value)) return `${answer}0`;
  const delta = rng.int(1, 9) * (rng.next() < 0.5 ? -1 : 1);
  return String(Math.max(0, value + delta === value ? value + 1 : value + delta));
}

function solutionText(problem: Problem, right: boolean, rng: Rng): string {
  const arith = arithOf(problem);
  const text = arith === null ? `The answer is \\boxed{${problem.answer}}.` : sampleArithSolution(arith, rng).text;
  if (right) return text;
  const boxed = `\\boxed{${problem.answer}}`;
  const index = text.lastIndexOf(boxed);
  const wrong = `\\boxed{${wrongAnswer(problem.answer, rng)}}`;
  return index < 0 ? `${text} ${wrong}` : `${text.slice(0, index)}${wrong}${text.slice(index + boxed.length)}`;
}

function metaText(problem: Problem, probability: number, skill: number, rng: Rng): string {
  const arith = arithOf(problem);
  const target = arith === null ? null : arithMetaTarget(arith);
  const spread = 0.35 / (1 + skill);
  const optimism = 0.2 / (1 + skill);
  const passRate = Math.min(8, Math.max(0, Math.round(8 * (probability + optimism + spread * rng.normal()))));
  const baseLength = target?.solutionLength ?? 40;
  const length = Math.max(1, Math.round(baseLength * (1 + (0.3 / (1 + skill)) * rng.normal())));
  const notions = target?.notions ?? [];
  return `{"math_notion": [${notions.map((notion) => JSON.stringify(notion)).join(', ')}], "pass_rate": ${passRate}, "solution_length": ${length}}`;
}

function findProblem(promptText: string, byQuestion: ReadonlyMap<string, Problem>): { problem: Problem; meta: boolean } | undefined {
  let text = promptText;
  let meta = false;
  if (text.startsWith('Meta: ')) {
    meta = true;
    text = text.slice('Meta: '.length);
  } else if (text.includes('Problem: ')) {
    meta = true;
    text = text.slice(text.lastIndexOf('Problem: ') + 'Problem: '.length);
  }
  const candidates = [text, text.trim(), text.split('\n\n')[0]?.trim() ?? '', text.split('\n')[0]?.trim() ?? ''];
  for (const candidate of candidates) {
    const problem = byQuestion.get(candidate);
    if (problem !== undefined) return { problem, meta };
  }
  return undefined;
}

/** Creates the simulated policy (fake backend + scripted engine) for a set of problems. */
export function createSimulatedPolicy(options: SimulatedPolicyOptions): SimulatedPolicy {
  const { problems, seed = 0, parameters = 16, skillScale = 40 } = options;
  const backend = createFakeBackend({ seed, parameters });
  const start = backend.weights();
  const byQuestion = new Map(problems.map((problem) => [problem.question.trim(), problem]));
  const skill = (): number => {
    const weights = backend.weights();
    let change = 0;
    weights.forEach((value, index) => {
      change += Math.abs(value - (start[index] as number));
    });
    return (skillScale * change) / weights.length;
  };
  const engine = createScriptedEngine({
    name: 'simulated',
    respond: ({ promptText, rng }) => {
      const found = findProblem(promptText, byQuestion);
      if (found === undefined) return 'I do not know this problem.';
      const current = skill();
      const probability = simulatedPassProbability(found.problem, current);
      if (found.meta) return metaText(found.problem, probability, current, rng);
      return solutionText(found.problem, rng.next() < probability, rng);
    },
  });
  return { engine, backend, skill };
}
