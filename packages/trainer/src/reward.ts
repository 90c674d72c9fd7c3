/**
 * The reward plug-in API: a function from (problem, completion, dataset) to a
 * score, optionally with extra fields that are logged. Built-ins wrap a
 * grader (e.g. `@masa-rl/scoring`'s, injected by the app) or match the last
 * `\boxed{}` exactly.
 */
import type { Completion, GradeVerdict, Problem } from '@masa-rl/core';

export interface RewardInput {
  problem: Problem;
  completion: Completion;
  /** Name of the dataset the problem came from (verl `data_source`). */
  dataset: string;
}

/** A bare score, or a score with extras (`acc` is read by DAPO's `filter_groups.metric: acc`). */
export type RewardOutput = number | { score: number; acc?: number; [key: string]: unknown };

export type RewardFunction = (input: RewardInput) => RewardOutput | Promise<RewardOutput>;

/** A reward after normalisation. */
export interface RewardValue {
  score: number;
  /** Correctness in {0, 1} when the function says so, else `score`. */
  acc: number;
  /** Extra fields the function returned (logged to `samples.jsonl`). */
  extra: Record<string, unknown>;
  /** Set when the function threw or returned something that is not a finite number (the score is then 0). */
  error?: string;
}

/** Turns any {@link RewardOutput} (or a thrown error) into a {@link RewardValue}; never throws. */
export async function evaluateReward(reward: RewardFunction, input: RewardInput): Promise<RewardValue> {
  let output: RewardOutput;
  try {
    output = await reward(input);
  } catch (error: unknown) {
    return { score: 0, acc: 0, extra: {}, error: error instanceof Error ? error.message : String(error) };
  }
  if (typeof output === 'number') {
    if (!Number.isFinite(output)) return { score: 0, acc: 0, extra: {}, error: `reward is ${output}` };
    return { score: output, acc: output, extra: {} };
  }
  if (typeof output !== 'object' || output === null || typeof output.score !== 'number' || !Number.isFinite(output.score)) {
    return { score: 0, acc: 0, extra: {}, error: `reward must be a finite number or { score: number }, got ${JSON.stringify(output)}` };
  }
  const { score, acc, ...extra } = output;
  return { score, acc: typeof acc === 'number' && Number.isFinite(acc) ? acc : score, extra };
}

export interface GraderRewardOptions {
  /**
   * Decides whether a response answers a problem (e.g. `@masa-rl/scoring`'s
   * response grader, with its own deadline). `true`/`equal` scores 1.
   */
  grade: (input: { response: string; problem: Problem; dataset: string }) =>
    | boolean
    | Pick<GradeVerdict, 'equal'> & Partial<GradeVerdict>
    | Promise<boolean | (Pick<GradeVerdict, 'equal'> & Partial<GradeVerdict>)>;
}

/** A 0/1 reward from a grader; the verdict's reason and status are kept as extras. */
export function createGraderReward(options: GraderRewardOptions): RewardFunction {
  const { grade } = options;
  return async ({ problem, completion, dataset }) => {
    const verdict = await grade({ response: completion.text, problem, dataset });
    if (typeof verdict === 'boolean') return { score: verdict ? 1 : 0, acc: verdict ? 1 : 0 };
    const score = verdict.equal ? 1 : 0;
    return {
      score,
      acc: score,
      ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
      ...(verdict.status === undefined ? {} : { status: verdict.status }),
      ...(verdict.extracted === undefined ? {} : { extracted: verdict.extracted }),
    };
  };
}

/** The content of the last `\boxed{…}` (brace-balanced), or `undefined`. */
export function lastBoxed(text: string): string | undefined {
  const start = text.lastIndexOf('\\boxed{');
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start + '\\boxed'.length; i < text.length; i++) {
    const char = text[i];
    if (char === '{') depth += 1;
    else if (char === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(start + '\\boxed{'.length, i);
    }
  }
  return undefined;
}

/**
 * 1 when the last `\boxed{…}` of the response, trimmed, equals the problem's
 * answer, trimmed; else 0. Enough for synthetic tasks with canonical answers
 * (the tiny arithmetic task); use {@link createGraderReward} with the scoring
 * package for real math.
 */
export function createBoxedMatchReward(): RewardFunction {
  return ({ problem, completion }) => {
    const boxed = lastBoxed(completion.text);
    const score = boxed !== undefined && boxed.trim() === problem.answer.trim() ? 1 : 0;
    return { score, acc: score, ...(boxed === undefined ? {} : { extracted: boxed }) };
  };
}
