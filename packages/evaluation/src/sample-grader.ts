/**
 * Grades a problem's sampled responses by its dataset's answer kind: math and multiple choice through
 * `@masa-rl/scoring`'s worker pool (a deadline on every grade), code through the Python sandbox (one
 * program at a time). Shared by `masa eval` and `masa eval score`.
 */
import { MasaError, type AnswerKind, type GradeVerdict, type Problem } from '@masa-rl/core';
import { createGradePool, gradeCode, type GradePool, type GradePoolOptions, type GradeRequest, type GradingMode } from '@masa-rl/scoring';

/** The parts of a dataset's info that grading reads. */
export interface GradingInfo {
  name: string;
  domain: string;
  answerKind: AnswerKind;
}

export interface SampleGraderOptions {
  /**
   * `correct` (masa-rl's grading policy) or `masa-parity` (the reference grader, bugs included).
   * @default 'correct'
   */
  mode?: GradingMode;
  /**
   * Deadline of one math or choice grade, in milliseconds (a grade past it scores 0 as `timeout`).
   * @default 2000
   */
  deadlineMs?: number;
  /**
   * Grading worker threads.
   * @default min(4, cores)
   */
  workers?: number;
  /**
   * Wall-clock limit of one MBPP program, in milliseconds.
   * @default 10000 (the reference's)
   */
  codeTimeoutMs?: number;
  /** Aborting kills a running program and fails pending code grades. */
  signal?: AbortSignal;
  /** Test seams. */
  _internal?: {
    /** Stand-in for `createGradePool`. */
    createGradePool?: (options: GradePoolOptions) => GradePool;
    /** Stand-in for `gradeCode`. */
    gradeCode?: typeof gradeCode;
  };
}

export interface SampleGrader extends AsyncDisposable {
  /**
   * Starts grading every response of one problem; the verdicts come back in sample order. Timeouts and
   * crashes are verdicts (`status`), never rejections.
   *
   * @throws MasaError `DATASET_INVALID` (synchronously) when a code problem has no `meta.tests`.
   */
  grade(problem: Problem, info: GradingInfo, responses: readonly string[]): Array<Promise<GradeVerdict>>;
  /** Stops the worker threads. */
  close(): Promise<void>;
}

/** The asserts of an MBPP problem (`meta.tests`). */
export function problemTests(problem: Problem, dataset: string): string[] {
  const value = problem.meta?.['tests'];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new MasaError('DATASET_INVALID', `${dataset} problem ${problem.id} has no meta.tests (a list of asserts): code grading needs them; check the dataset file`, {
      details: { dataset, problemId: problem.id },
    });
  }
  return value as string[];
}

/** Creates a grader; the worker pool starts on the first math or choice grade. */
export function createSampleGrader(options: SampleGraderOptions = {}): SampleGrader {
  const { mode = 'correct', deadlineMs = 2000, workers, codeTimeoutMs = 10_000, signal, _internal = {} } = options;
  const makePool = _internal.createGradePool ?? createGradePool;
  const runCode = _internal.gradeCode ?? gradeCode;
  let pool: GradePool | undefined;
  // One sandboxed program at a time: the machine may have a single core.
  let codeChain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const close = async (): Promise<void> => {
    closed = true;
    const current = pool;
    pool = undefined;
    await current?.close();
  };

  return {
    grade(problem, info, responses) {
      if (closed) throw new MasaError('INTERNAL', 'the sample grader is closed');
      if (info.answerKind === 'code') {
        const tests = problemTests(problem, info.name);
        return responses.map((response) => {
          const run = codeChain.then(() => runCode({ response, tests, mode, timeoutMs: codeTimeoutMs, ...(signal === undefined ? {} : { signal }) }));
          codeChain = run.catch(() => undefined);
          return run;
        });
      }
      pool ??= makePool(workers === undefined ? { deadlineMs } : { deadlineMs, size: workers });
      const active = pool;
      return responses.map((response) => {
        const request: GradeRequest = { kind: info.answerKind === 'choice' ? 'choice' : 'math', gold: problem.answer, response, mode, logic: info.domain === 'logic' };
        if (problem.choices !== undefined) request.labels = problem.choices.map((choice) => choice.label).join('');
        return active.grade(request);
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
