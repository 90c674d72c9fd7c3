/**
 * Evaluation of a tiny-task checkpoint (TINY-TASK §4): per problem, `samples` solutions at
 * temperature 1 (accuracy, pass-count histogram, mixed outcomes), one greedy solution, and one
 * greedy meta prediction compared with the measured pass count (parse rate, MAE, correlation,
 * MASA's meta reward).
 */
import { MasaError, hashString, type Problem, type RolloutEngine, type RolloutRequest } from '@masa-rl/core';
import { arithMetaTarget, gradeArithResponse, parseArithProblem } from '@masa-rl/datasets';
import { computeMetaReward, computeSolutionStats, parseMetaPrediction, pearsonCorrelation } from '@masa-rl/meta-gating';
import type { Tokenizer } from '@masa-rl/model';
import { tinyMetaMessages, tinySolutionMessages } from './tiny-sft-data.js';

/** Options of {@link evaluateTinyModel}. */
export interface EvaluateTinyModelOptions {
  /** Samples with the model's current weights. */
  engine: RolloutEngine;
  tokenizer: Tokenizer;
  /** Held-out problems (`Compute … .` statements with integer answers). */
  problems: readonly Problem[];
  /** Solutions per problem at `temperature`. @default 8 */
  samples?: number;
  /** @default 1 */
  temperature?: number;
  /** Longest sequence (prompt + response) in tokens. @default 320 */
  contextTokens?: number;
  /** Token budget of a meta prediction. @default 160 */
  metaMaxNewTokens?: number;
  /** Token ids that end a response. */
  stopTokenIds: readonly number[];
  /** Seed of the sampling (each request mixes in its problem id). @default 0 */
  seed?: number;
  /**
   * Sample only (no greedy solution, no meta prediction): `greedyAccuracy` and
   * `meta` are `null`. For frequent accuracy checks during a run. @default false
   */
  accuracyOnly?: boolean;
  signal?: AbortSignal;
}

/** What the evaluation measured. */
export interface TinyEvaluation {
  problems: number;
  samples: number;
  temperature: number;
  /** Mean correctness over every sample. */
  accuracy: number;
  /** Correctness of one greedy solution per problem (`null` with `accuracyOnly`). */
  greedyAccuracy: number | null;
  /** Problems by number of correct samples, index 0..samples. */
  passCountHistogram: number[];
  /** Share of problems with some but not all samples correct. */
  mixedFraction: number;
  /** Accuracy by number of operations k (1–4); null where no problem has that k. */
  accuracyByOperations: Array<number | null>;
  /** Mean length in tokens (with EOS) of correct samples. */
  meanCorrectLength: number | null;
  /** `null` with `accuracyOnly`. */
  meta: {
    /** Share of greedy meta predictions that parse with an integer pass_rate. */
    parseRate: number;
    /** Mean |predicted pass_rate − correct samples| over parsed predictions (pass counts out of `samples`). */
    passRateMae: number | null;
    /** Pearson correlation of predicted and true pass counts. */
    passRateCorrelation: number | null;
    /** MAE of the heuristic SFT target (`arithMetaTarget`) against the same truth. */
    heuristicMae: number;
    /** MAE of always predicting the median true pass count. */
    constantMae: number;
    /** Mean MASA meta reward (MASA-SPEC §6.3, default mode) of the greedy predictions. */
    meanReward: number;
  } | null;
  /** Generated tokens and wall time. */
  generatedTokens: number;
  ms: number;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Runs the evaluation. Sampling seeds depend only on `seed` and the problem ids, so the same
 * weights give the same numbers.
 *
 * @throws MasaError `ENGINE_FAILED` when the engine returns fewer samples than asked.
 */
export async function evaluateTinyModel(options: EvaluateTinyModelOptions): Promise<TinyEvaluation> {
  const {
    engine,
    tokenizer,
    problems,
    samples = 8,
    temperature = 1,
    contextTokens = 320,
    metaMaxNewTokens = 160,
    stopTokenIds,
    seed = 0,
    accuracyOnly = false,
    signal,
  } = options;
  const started = performance.now();
  const request = (id: string, promptTokenIds: number[], n: number, greedy: boolean, maxNewTokens: number): RolloutRequest => ({
    id,
    promptTokenIds,
    n,
    maxNewTokens: Math.max(1, maxNewTokens),
    temperature: greedy ? 1 : temperature,
    ...(greedy ? { topK: 1 } : {}),
    stopTokenIds,
    seed: hashString(`${seed}:${id}`),
  });
  const requests: RolloutRequest[] = [];
  for (const problem of problems) {
    const solutionPrompt = tokenizer.encodeChat(tinySolutionMessages(problem.question));
    const metaPrompt = tokenizer.encodeChat(tinyMetaMessages(problem.question));
    const budget = contextTokens - solutionPrompt.length;
    requests.push(request(`${problem.id}:sampled`, solutionPrompt, samples, false, budget));
    if (accuracyOnly) continue;
    requests.push(request(`${problem.id}:greedy`, solutionPrompt, 1, true, budget));
    requests.push(request(`${problem.id}:meta`, metaPrompt, 1, true, Math.min(metaMaxNewTokens, contextTokens - metaPrompt.length)));
  }
  const results = await engine.doGenerate(requests, signal !== undefined ? { signal } : {});
  const byId = new Map(results.map((result) => [result.requestId, result]));
  const samplesOf = (id: string, expected: number) => {
    const found = byId.get(id)?.samples;
    if (found === undefined || found.length !== expected) {
      throw new MasaError('ENGINE_FAILED', `tiny evaluation: engine ${engine.name} returned ${found?.length ?? 'no'} samples for ${id}, expected ${expected}`);
    }
    return found;
  };

  const histogram = new Array<number>(samples + 1).fill(0);
  const byOperations: number[][] = [[], [], [], []];
  const correctLengths: number[] = [];
  const predicted: number[] = [];
  const truthOfPredicted: number[] = [];
  const truths: number[] = [];
  const heuristicErrors: number[] = [];
  const rewards: number[] = [];
  let correctTotal = 0;
  let greedyCorrect = 0;
  let parsedCount = 0;
  let generatedTokens = 0;
  for (const problem of problems) {
    const sampled = samplesOf(`${problem.id}:sampled`, samples);
    const rollouts = sampled.map((sample) => {
      generatedTokens += sample.tokenIds.length;
      const score = gradeArithResponse(sample.text, problem.answer) ? 1 : 0;
      if (score === 1) correctLengths.push(sample.tokenIds.length);
      return { text: sample.text, score, length: sample.tokenIds.length };
    });
    const correct = rollouts.reduce((sum, rollout) => sum + rollout.score, 0);
    correctTotal += correct;
    histogram[correct] = (histogram[correct] as number) + 1;
    truths.push(correct);
    const parsedProblem = parseArithProblem(problem.question);
    byOperations[parsedProblem.k - 1]?.push(correct / samples);
    heuristicErrors.push(Math.abs(arithMetaTarget(parsedProblem).passRate - correct));
    if (accuracyOnly) continue;
    const [greedy] = samplesOf(`${problem.id}:greedy`, 1);
    generatedTokens += greedy?.tokenIds.length ?? 0;
    if (greedy !== undefined && gradeArithResponse(greedy.text, problem.answer)) greedyCorrect += 1;
    const [meta] = samplesOf(`${problem.id}:meta`, 1);
    generatedTokens += meta?.tokenIds.length ?? 0;
    const parsed = parseMetaPrediction(meta?.text ?? '');
    if (parsed.ok && parsed.intKeys.includes('pass_rate') && typeof parsed.prediction.passRate === 'number') {
      parsedCount += 1;
      predicted.push(parsed.prediction.passRate);
      truthOfPredicted.push(correct);
    }
    const stats = computeSolutionStats({ rollouts });
    rewards.push(computeMetaReward({ parsed, stats, notionExcludeText: problem.question }).score);
  }
  const sortedTruths = [...truths].sort((a, b) => a - b);
  const median = sortedTruths.length === 0 ? 0 : (sortedTruths[Math.floor((sortedTruths.length - 1) / 2)] as number);
  const count = problems.length;
  return {
    problems: count,
    samples,
    temperature,
    accuracy: count === 0 ? 0 : correctTotal / (count * samples),
    greedyAccuracy: accuracyOnly ? null : count === 0 ? 0 : greedyCorrect / count,
    passCountHistogram: histogram,
    mixedFraction: count === 0 ? 0 : (count - (histogram[0] as number) - (histogram[samples] as number)) / count,
    accuracyByOperations: byOperations.map((values) => mean(values)),
    meanCorrectLength: mean(correctLengths),
    meta: accuracyOnly
      ? null
      : {
          parseRate: count === 0 ? 0 : parsedCount / count,
          passRateMae: mean(predicted.map((value, i) => Math.abs(value - (truthOfPredicted[i] as number)))),
          passRateCorrelation: pearsonCorrelation(predicted, truthOfPredicted),
          heuristicMae: mean(heuristicErrors) ?? 0,
          constantMae: mean(truths.map((truth) => Math.abs(truth - median))) ?? 0,
          meanReward: mean(rewards) ?? 0,
        },
    generatedTokens,
    ms: performance.now() - started,
  };
}
