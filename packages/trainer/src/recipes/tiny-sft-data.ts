/**
 * SFT data of the tiny recipe (TINY-TASK §1): an endless, seeded stream of chat-formatted
 * examples from the *train* side of the synthetic arithmetic task — solution examples (a
 * sampled mix of short / named / long steps and the boxed answer) and meta examples (`Meta: `
 * + the solution prompt → the heuristic meta JSON) — and length-bucketed batches.
 */
import { MasaError, type Rng } from '@masa-rl/core';
import {
  arithMetaTarget,
  arithSolutionPrompt,
  arithSplitOf,
  generateArithProblem,
  sampleArithSolution,
  type ArithMix,
  type ArithMixName,
  type ArithProblem,
} from '@masa-rl/datasets';
import { buildMetaPrompt, tinyTaskMetaTemplate } from '@masa-rl/meta-gating';
import type { Tokenizer } from '@masa-rl/model';

/** One SFT example: the loss covers the response tokens, which end with the EOS token. */
export interface SftExample {
  kind: 'solution' | 'meta';
  /** The problem statement. */
  problem: string;
  /** The chat-templated prompt with the assistant turn opened. */
  promptTokenIds: number[];
  /** The target text followed by the EOS token. */
  responseTokenIds: number[];
}

/** Options of {@link createSftExampleStream}. */
export interface SftExampleStreamOptions {
  /** Draws problems, styles and the example kind. */
  rng: Rng;
  /** The model's tokenizer (its chat template formats the prompts). */
  tokenizer: Tokenizer;
  /** Share of meta examples. */
  metaFraction: number;
  /** Problem mix of the generator. */
  mix: ArithMixName | ArithMix;
  /** Longest example in tokens (prompt + response + EOS): long steps are shortened to fit. */
  contextTokens: number;
}

/** A seeded generator of SFT examples. */
export interface SftExampleStream {
  next(): SftExample;
  /** Problems drawn so far, including redraws of held-out ones. */
  readonly draws: number;
}

/** The solution prompt messages of a problem (one user turn: the problem and a newline). */
export function tinySolutionMessages(problem: string): Array<{ role: 'user'; content: string }> {
  return [{ role: 'user', content: arithSolutionPrompt({ text: problem }) }];
}

/** The meta prompt messages of a problem (`tinyTaskMetaTemplate`: `Meta: ` + the solution prompt). */
export function tinyMetaMessages(problem: string): Array<{ role: 'system' | 'user' | 'assistant'; content: string }> {
  return buildMetaPrompt({ solutionPrompt: arithSolutionPrompt({ text: problem }), template: tinyTaskMetaTemplate });
}

/**
 * Creates the example stream. Problems whose statement hashes into the validation or test
 * split (`arithSplitOf`) are redrawn, so no held-out problem is ever trained on.
 *
 * @throws MasaError `CONFIG_INVALID` when the tokenizer has no EOS token or the context is too short.
 */
export function createSftExampleStream(options: SftExampleStreamOptions): SftExampleStream {
  const { rng, tokenizer, metaFraction, mix, contextTokens } = options;
  const eos = tokenizer.eosTokenId;
  if (eos === null) throw new MasaError('CONFIG_INVALID', 'tiny recipe: the tokenizer has no eos_token (set it in tokenizer_config.json)');
  const overhead = tokenizer.encodeChat(tinySolutionMessages('')).length - arithSolutionPrompt({ text: '' }).length;
  const contextChars = contextTokens - overhead;
  if (contextChars < 64) {
    throw new MasaError('CONFIG_INVALID', `tiny recipe: a context of ${contextTokens} tokens leaves ${contextChars} characters after the chat template; use at least ${overhead + 256}`);
  }
  let draws = 0;
  const drawTrainProblem = (): ArithProblem => {
    for (;;) {
      draws += 1;
      const problem = generateArithProblem(rng, { mix });
      if (arithSplitOf(problem.text) === 'train') return problem;
    }
  };
  return {
    get draws() {
      return draws;
    },
    next() {
      const problem = drawTrainProblem();
      if (rng.next() < metaFraction) {
        return {
          kind: 'meta',
          problem: problem.text,
          promptTokenIds: tokenizer.encodeChat(tinyMetaMessages(problem.text)),
          responseTokenIds: [...tokenizer.encode(arithMetaTarget(problem).json), eos],
        };
      }
      const solution = sampleArithSolution(problem, rng, { contextChars });
      return {
        kind: 'solution',
        problem: problem.text,
        promptTokenIds: tokenizer.encodeChat(tinySolutionMessages(problem.text)),
        responseTokenIds: [...tokenizer.encode(solution.text), eos],
      };
    },
  };
}

/** Options of {@link createBucketedBatches}. */
export interface BucketedBatchesOptions {
  next: () => SftExample;
  rng: Rng;
  batchSize: number;
  /** Batches per pool: a pool is generated, sorted by length, cut into batches and shuffled. */
  poolBatches: number;
}

/**
 * Length-bucketed batches (TINY-TASK §3): pools of `poolBatches × batchSize` examples sorted by
 * total length and cut into batches of similar length (little padding), served in a shuffled
 * order.
 */
export function createBucketedBatches(options: BucketedBatchesOptions): { next(): SftExample[] } {
  const { next, rng, batchSize, poolBatches } = options;
  let queue: SftExample[][] = [];
  return {
    next() {
      if (queue.length === 0) {
        const pool = Array.from({ length: batchSize * poolBatches }, next);
        const length = (example: SftExample): number => example.promptTokenIds.length + example.responseTokenIds.length;
        // A stable sort: equal lengths keep their generation order, so batches are reproducible.
        const sorted = pool.map((example, index) => ({ example, index })).sort((a, b) => length(a.example) - length(b.example) || a.index - b.index);
        queue = Array.from({ length: poolBatches }, (_, b) => sorted.slice(b * batchSize, (b + 1) * batchSize).map((entry) => entry.example));
        rng.shuffle(queue);
      }
      return queue.pop() as SftExample[];
    },
  };
}
