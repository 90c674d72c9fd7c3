/**
 * Every error code masa-rl raises. One union for the whole project: apps map
 * each code to an exit code, and tests assert on codes rather than messages.
 */
export type MasaErrorCode =
  | 'CONFIG_INVALID'
  | 'ARGUMENT_INVALID'
  | 'DATASET_NOT_FOUND'
  | 'DATASET_INVALID'
  | 'FILE_NOT_FOUND'
  | 'FILE_WRITE_FAILED'
  | 'NETWORK_UNAVAILABLE'
  | 'MODEL_LOAD_FAILED'
  | 'CHECKPOINT_INVALID'
  | 'GRAPH_INVALID'
  | 'GRADIENT_UNDEFINED'
  | 'RUNTIME_UNAVAILABLE'
  | 'NUMERIC_INSTABILITY'
  | 'GRADE_TIMEOUT'
  | 'SANDBOX_FAILED'
  | 'ENGINE_FAILED'
  | 'ABORTED'
  | 'INTERNAL';

/** Every code, for exhaustive tables (exit codes, docs). */
export const MASA_ERROR_CODES: readonly MasaErrorCode[] = [
  'CONFIG_INVALID',
  'ARGUMENT_INVALID',
  'DATASET_NOT_FOUND',
  'DATASET_INVALID',
  'FILE_NOT_FOUND',
  'FILE_WRITE_FAILED',
  'NETWORK_UNAVAILABLE',
  'MODEL_LOAD_FAILED',
  'CHECKPOINT_INVALID',
  'GRAPH_INVALID',
  'GRADIENT_UNDEFINED',
  'RUNTIME_UNAVAILABLE',
  'NUMERIC_INSTABILITY',
  'GRADE_TIMEOUT',
  'SANDBOX_FAILED',
  'ENGINE_FAILED',
  'ABORTED',
  'INTERNAL',
];

const MARKER = Symbol.for('masa-rl.error');

export interface MasaErrorOptions {
  /** The underlying error, kept for debugging (`error.cause`). */
  cause?: unknown;
  /** Structured facts about the failure (file, line, key, step …). */
  details?: Record<string, unknown>;
}

/**
 * The one error shape of masa-rl. The message says what went wrong *and* how
 * to fix it (which file, which row, which flag).
 *
 * Use {@link MasaError.isInstance} rather than `instanceof`: it works across
 * duplicate copies of this package in one process.
 */
export class MasaError extends Error {
  readonly [MARKER] = true;
  readonly code: MasaErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: MasaErrorCode, message: string, options: MasaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MasaError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** True for any MasaError, from this or any other copy of `@masa-rl/core`. */
  static isInstance(value: unknown): value is MasaError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[MARKER] === true &&
      typeof (value as { code?: unknown }).code === 'string'
    );
  }

  /** Is `value` a MasaError with this code? */
  static hasCode(value: unknown, code: MasaErrorCode): value is MasaError {
    return MasaError.isInstance(value) && value.code === code;
  }

  /**
   * Wraps anything thrown into a MasaError, keeping the original as `cause`.
   * A MasaError passes through unchanged.
   */
  static from(value: unknown, code: MasaErrorCode = 'INTERNAL', message?: string): MasaError {
    if (MasaError.isInstance(value)) return value;
    const text = value instanceof Error ? value.message : String(value);
    return new MasaError(code, message ?? text, { cause: value });
  }

  toJSON(): { name: string; code: MasaErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}
