/**
 * Generation and scoring of rollout groups: builds engine requests (one per
 * prompt, `n` samples, a seed from the trainer's generator), checks what the
 * engine returns, and scores every sample with the reward plug-in.
 */
import {
  MasaError,
  type ChatMessage,
  type FinishReason,
  type Problem,
  type Rng,
  type RolloutEngine,
  type RolloutRequest,
} from '@masa-rl/core';
import type { TrainerConfig } from './config-schema.js';
import type { RolloutBranch, TrainEvent } from './events.js';
import { evaluateReward, type RewardFunction, type RewardValue } from './reward.js';

/** A prompt as chat messages (the engine applies its chat template) or as token ids. */
export type PromptInput = { messages: ChatMessage[] } | { promptTokenIds: number[] };

/** Builds the solution prompt of a problem. */
export type PromptBuilder = (input: { problem: Problem; dataset: string }) => PromptInput;

/** The default solution prompt: one user message holding the question. */
export const defaultPromptBuilder: PromptBuilder = ({ problem }) => ({ messages: [{ role: 'user', content: problem.question }] });

/** Request fields applied to every generation (stop tokens of the model, …). */
export type RequestDefaults = Pick<RolloutRequest, 'stopTokenIds' | 'stopStrings'>;

/** One sampled sequence with everything the update and the logs need. */
export interface RolloutRecord {
  promptTokenIds: number[];
  responseTokenIds: number[];
  text: string;
  finishReason: FinishReason;
  /** Sampling log-probs reported by the engine (logged, not trained on). */
  samplingLogprobs: number[];
  reward: RewardValue;
}

/** The samples of one prompt: one GRPO group (one uid). */
export interface RolloutGroup {
  uid: string;
  branch: RolloutBranch;
  /** Index of the problem in its dataset. */
  problemIndex: number;
  problem: Problem;
  dataset: string;
  records: RolloutRecord[];
}

/** One prompt to sample. */
export interface GroupRequest {
  uid: string;
  branch: RolloutGroup['branch'];
  problemIndex: number;
  problem: Problem;
  dataset: string;
  prompt: PromptInput;
  n: number;
  maxNewTokens: number;
  /** MASA's per-question length cutoff. @default false */
  budgetIsCutoff?: boolean;
}

export interface SamplingSettings {
  temperature: number;
  topP: number;
  /** ≤ 0 disables top-k. */
  topK: number;
}

export interface GenerateGroupsOptions {
  step: number;
  round: number;
  engine: RolloutEngine;
  config: TrainerConfig;
  /** Draws each request's seed. */
  rng: Rng;
  sampling: SamplingSettings;
  requestDefaults: RequestDefaults;
  signal: AbortSignal | undefined;
  now: () => number;
}

/** Sampling settings of training rollouts. */
export function trainingSampling(config: TrainerConfig): SamplingSettings {
  const rollout = config.actor_rollout_ref.rollout;
  return { temperature: rollout.temperature, topP: rollout.top_p, topK: rollout.top_k };
}

/** Sampling settings of validation (verl `rollout.val_kwargs`; `do_sample: false` is greedy). */
export function validationSampling(config: TrainerConfig): SamplingSettings {
  const val = config.actor_rollout_ref.rollout.val_kwargs;
  return val.do_sample ? { temperature: val.temperature, topP: val.top_p, topK: val.top_k } : { temperature: 1, topP: 1, topK: 1 };
}

const emptyReward = (): RewardValue => ({ score: 0, acc: 0, extra: {} });

/**
 * Samples every group request in one engine call and yields one
 * `rollout-end` per branch (solution, meta) present.
 * Checks the engine's answer (one result per request, `n` samples each, the
 * prompt within `data.max_prompt_length`).
 *
 * @throws MasaError `ENGINE_FAILED`, `DATASET_INVALID`
 */
export async function* generateGroups(
  requests: readonly GroupRequest[],
  options: GenerateGroupsOptions,
): AsyncGenerator<TrainEvent, RolloutGroup[]> {
  const { step, round, engine, config, rng, sampling, requestDefaults, signal, now } = options;
  if (requests.length === 0) return [];
  const started = now();
  const engineRequests: RolloutRequest[] = requests.map((request) => ({
    id: request.uid,
    ...request.prompt,
    n: request.n,
    maxNewTokens: request.maxNewTokens,
    ...(request.budgetIsCutoff === true ? { budgetIsCutoff: true } : {}),
    temperature: sampling.temperature,
    topP: sampling.topP,
    ...(sampling.topK > 0 ? { topK: sampling.topK } : {}),
    seed: rng.nextUint32(),
    ...requestDefaults,
  }));
  let results;
  try {
    results = await engine.doGenerate(engineRequests, signal === undefined ? {} : { signal });
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) throw error;
    throw new MasaError('ENGINE_FAILED', `step ${step}: rollout engine ${engine.name} failed: ${(error as Error).message}`, {
      cause: error,
      details: { step, engine: engine.name },
    });
  }
  const byId = new Map(results.map((result) => [result.requestId, result]));
  const maxPrompt = config.data.max_prompt_length;
  const perBranch = new Map<RolloutGroup['branch'], { requests: number; sequences: number; tokens: number }>();
  const groups = requests.map((request): RolloutGroup => {
    const result = byId.get(request.uid);
    if (result === undefined || result.samples.length !== request.n) {
      throw new MasaError(
        'ENGINE_FAILED',
        `step ${step}: engine ${engine.name} returned ${result === undefined ? 'no result' : `${result.samples.length} samples`} for request ${request.uid} (asked for ${request.n})`,
        { details: { step, requestId: request.uid } },
      );
    }
    if (result.promptTokenIds.length > maxPrompt) {
      throw new MasaError(
        'DATASET_INVALID',
        `problem ${request.problem.id} of ${request.dataset}: its ${request.branch} prompt has ${result.promptTokenIds.length} tokens, more than data.max_prompt_length = ${maxPrompt}; filter long prompts out of the data or raise data.max_prompt_length`,
        { details: { step, problemId: request.problem.id, promptTokens: result.promptTokenIds.length } },
      );
    }
    const counts = perBranch.get(request.branch) ?? { requests: 0, sequences: 0, tokens: 0 };
    perBranch.set(request.branch, counts);
    counts.requests += 1;
    const records = result.samples.map((sample): RolloutRecord => {
      counts.tokens += sample.tokenIds.length;
      counts.sequences += 1;
      return {
        promptTokenIds: result.promptTokenIds,
        responseTokenIds: sample.tokenIds,
        text: sample.text,
        finishReason: sample.finishReason,
        samplingLogprobs: sample.logprobs,
        reward: emptyReward(),
      };
    });
    return {
      uid: request.uid,
      branch: request.branch,
      problemIndex: request.problemIndex,
      problem: request.problem,
      dataset: request.dataset,
      records,
    };
  });
  const ms = now() - started;
  for (const [branch, counts] of perBranch) yield { type: 'rollout-end', step, round, branch, ...counts, ms };
  return groups;
}

export interface ScoreGroupsOptions {
  step: number;
  round: number;
  reward: RewardFunction;
  now: () => number;
}

/**
 * Scores every record of the groups with the reward plug-in (concurrently),
 * yields `reward-end` and a `warning` for the first failing reward call.
 */
export async function* scoreGroups(groups: readonly RolloutGroup[], options: ScoreGroupsOptions): AsyncGenerator<TrainEvent, void> {
  const { step, round, reward, now } = options;
  if (groups.length === 0) return;
  const started = now();
  const jobs: Array<Promise<void>> = [];
  for (const group of groups) {
    for (const record of group.records) {
      jobs.push(
        evaluateReward(reward, {
          problem: group.problem,
          dataset: group.dataset,
          completion: {
            text: record.text,
            tokenIds: record.responseTokenIds,
            logprobs: record.samplingLogprobs,
            finishReason: record.finishReason,
          },
        }).then((value) => {
          record.reward = value;
        }),
      );
    }
  }
  await Promise.all(jobs);
  let total = 0;
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  for (const group of groups) {
    for (const record of group.records) {
      total += record.reward.score;
      count += 1;
      if (record.reward.error !== undefined) {
        errors += 1;
        firstError ??= `problem ${group.problem.id}: ${record.reward.error}`;
      }
    }
  }
  const branch = groups[0]?.branch ?? 'solution';
  if (firstError !== undefined) {
    yield {
      type: 'warning',
      step,
      code: 'reward-error',
      message: `${errors} of ${count} reward calls failed and scored 0 (first: ${firstError}); check the reward function`,
    };
  }
  yield { type: 'reward-end', step, round, branch, sequences: count, meanScore: count === 0 ? 0 : total / count, errors, ms: now() - started };
}
