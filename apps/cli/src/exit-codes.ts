import { MasaError, type MasaErrorCode } from '@masa-rl/core';

/**
 * Exit codes by error code. 1 is an unexpected failure (a bug: please report
 * it); 2 is a usage error; the rest group failures by what the user fixes.
 */
export const EXIT_CODES: Record<MasaErrorCode, number> = {
  ARGUMENT_INVALID: 2,
  CONFIG_INVALID: 3,
  DATASET_NOT_FOUND: 4,
  DATASET_INVALID: 4,
  FILE_NOT_FOUND: 5,
  FILE_WRITE_FAILED: 5,
  CHECKPOINT_INVALID: 5,
  NETWORK_UNAVAILABLE: 6,
  MODEL_LOAD_FAILED: 7,
  RUNTIME_UNAVAILABLE: 8,
  GRAPH_INVALID: 9,
  GRADIENT_UNDEFINED: 9,
  NUMERIC_INSTABILITY: 10,
  GRADE_TIMEOUT: 11,
  SANDBOX_FAILED: 11,
  ENGINE_FAILED: 12,
  ABORTED: 130,
  INTERNAL: 1,
};

/** Turns anything thrown by a command into one line for stderr and an exit code. */
export function describeFailure(error: unknown): { line: string; exitCode: number } {
  if (MasaError.isInstance(error)) {
    return { line: `masa: ${error.message} [${error.code}]`, exitCode: EXIT_CODES[error.code] };
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    line: `masa: unexpected error (this is a bug in masa-rl; please report it with the output below)\n${text}`,
    exitCode: 1,
  };
}
