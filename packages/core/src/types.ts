/** The domains masa-rl evaluates, as in the MASA paper. */
export type Domain = 'math' | 'science' | 'logic' | 'coding';

/** One option of a multiple-choice problem. */
export interface Choice {
  /** Option letter, `A`…`H`. */
  label: string;
  text: string;
}

/**
 * One problem of a dataset, in the uniform format every loader produces.
 * `answer` is the gold final answer (a LaTeX string for math, a letter for
 * multiple choice, reference code for MBPP).
 */
export interface Problem {
  id: string;
  question: string;
  answer: string;
  choices?: Choice[];
  /** Per-dataset extras (level, subject, tests for MBPP, context for logic sets …). */
  meta?: Record<string, unknown>;
}

/** How the gold answer of a problem is compared with a prediction. */
export type AnswerKind = 'math' | 'choice' | 'code';

/** Why a generation stopped: end-of-sequence/stop string, the global length limit, or MASA's per-request cutoff. */
export type FinishReason = 'stop' | 'length' | 'cutoff';

/** One sampled response. */
export interface Completion {
  text: string;
  tokenIds?: number[];
  /** Log-probability of each sampled token, under the sampling distribution. */
  logprobs?: number[];
  finishReason?: FinishReason;
}

/** The outcome of comparing one prediction with one gold answer. */
export interface GradeVerdict {
  equal: boolean;
  /** Which rule decided (`exact-string`, `numeric-tolerance`, `symbolic`, `timeout` …). */
  reason: string;
  /** Wall-clock milliseconds spent grading this item. */
  ms: number;
  /** `timeout` and `error` score 0 and are counted in reports. */
  status: 'ok' | 'timeout' | 'error';
  /** The answer extracted from the response, when grading a response rather than a bare answer. */
  extracted?: string;
  /** Error message when `status` is `error`. */
  error?: string;
}

/** The score of one sample of one problem, as written to `scores.jsonl`. */
export interface SampleScore {
  problemId: string;
  sampleIndex: number;
  score: number;
  verdict: GradeVerdict;
}
