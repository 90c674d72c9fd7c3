/**
 * Code grading (MBPP): the response's code plus the problem's asserts, run in
 * the Python sandbox. Passed iff the program exits cleanly.
 */
import { MasaError, type GradeVerdict } from '@masa-rl/core';
import { runPython, type RunPythonOptions, type RunPythonResult } from '@masa-rl/sandbox';
import { extractCode } from './extract.js';
import type { GradingMode } from './math-equal.js';
import { masaBuildProgram, masaExtractCode } from './parity/masa-extract.js';

/** The reference's per-program limit. */
export const MBPP_TIMEOUT_MS = 10_000;

export interface GradeCodeOptions {
  /** The whole model response. */
  response: string;
  /** The problem's asserts (`problem.meta.tests` for MBPP). */
  tests: readonly string[];
  /**
   * `correct`: first fenced block after any `</think>`; `masa-parity`: the reference's first ```/```python block.
   * @default 'correct'
   */
  mode?: GradingMode;
  /**
   * Wall-clock limit of the program.
   * @default 10000 (the reference's)
   */
  timeoutMs?: number;
  /**
   * Address-space limit of the program, in MiB.
   * @default 512
   */
  memoryMb?: number;
  /** Aborting kills the program. */
  signal?: AbortSignal;
  /** Test seam: a stand-in for the sandbox. */
  _internal?: { runPython?: (options: RunPythonOptions) => Promise<RunPythonResult> };
}

/** The program that gets run: the extracted code, a newline, the asserts one per line. */
export function buildCodeProgram(response: string, tests: readonly string[], mode: GradingMode = 'correct'): string {
  const code = mode === 'masa-parity' ? masaExtractCode(response) : extractCode(response).code;
  return masaBuildProgram(code, tests);
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}

/**
 * Grades one code response. Program failures (a failing assert, an
 * exception, a timeout, too much memory or output) are `equal: false` with
 * `status: 'ok'`; a sandbox that cannot run at all gives `status: 'error'`.
 */
export async function gradeCode(options: GradeCodeOptions): Promise<GradeVerdict> {
  const { response, tests, mode = 'correct', timeoutMs = MBPP_TIMEOUT_MS, memoryMb = 512, signal, _internal = {} } = options;
  const start = performance.now();
  if (tests.length === 0) {
    throw new MasaError('DATASET_INVALID', 'a code problem has no tests: MBPP problems carry their asserts in meta.tests (check the dataset file)');
  }
  const program = buildCodeProgram(response, tests, mode);
  const run = _internal.runPython ?? runPython;
  try {
    const runOptions: RunPythonOptions = { code: program, timeoutMs, memoryMb };
    if (signal !== undefined) runOptions.signal = signal;
    const result = await run(runOptions);
    const ms = performance.now() - start;
    const extracted = program.slice(0, program.length - tests.join('\n').length - 1);
    switch (result.status) {
      case 'ok':
        return { equal: true, reason: 'tests-passed', ms, status: 'ok', extracted };
      case 'error':
        return { equal: false, reason: `tests-failed: ${lastLine(result.stderr)}`, ms, status: 'ok', extracted };
      default:
        return { equal: false, reason: `program-${result.status}`, ms, status: 'ok', extracted };
    }
  } catch (error: unknown) {
    if (MasaError.isInstance(error) && error.code === 'ARGUMENT_INVALID') throw error;
    return {
      equal: false,
      reason: 'sandbox-failed',
      ms: performance.now() - start,
      status: 'error',
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
