import { constants } from 'node:os';

/** How a run ended. `ok` iff the program exited with code 0 on its own. */
export type RunStatus = 'ok' | 'error' | 'timeout' | 'memory' | 'output-limit' | 'killed';

/** Why the runner itself stopped the program, if it did. */
export type KillReason = 'timeout' | 'output-limit' | 'aborted';

/** The facts a status is decided from. */
export interface RunEnding {
  killReason: KillReason | null;
  exitCode: number | null;
  signal: string | null;
  stderr: string;
}

/**
 * Decides the status, first match wins:
 * 1. the runner's own kill: `aborted` → `killed`, `output-limit`, `timeout`;
 * 2. exit code 0 → `ok`;
 * 3. SIGXCPU (the CPU-time limit) → `timeout`;
 * 4. the last traceback line is `MemoryError` (the address-space limit) → `memory`;
 * 5. any other signal → `killed`; any other exit code → `error`.
 */
export function classifyRun(ending: RunEnding): RunStatus {
  if (ending.killReason === 'aborted') return 'killed';
  if (ending.killReason !== null) return ending.killReason;
  if (ending.exitCode === 0 && ending.signal === null) return 'ok';
  if (ending.signal === 'SIGXCPU') return 'timeout';
  if (endsWithMemoryError(ending.stderr)) return 'memory';
  if (ending.signal !== null) return 'killed';
  return 'error';
}

/** Is the final exception line of a Python traceback a `MemoryError`? */
export function endsWithMemoryError(stderr: string): boolean {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  const last = lines[lines.length - 1] ?? '';
  return /^MemoryError\b/.test(last);
}

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/**
 * bubblewrap reports a child killed by signal N as exit code 128 + N. Turns
 * that back into a signal name. (A program that calls `exit(137)` itself
 * looks the same; both are non-ok.)
 */
export function decodeWrapperExit(exitCode: number | null, signal: string | null): { exitCode: number | null; signal: string | null } {
  if (signal !== null || exitCode === null || exitCode <= 128) return { exitCode, signal };
  const name = SIGNAL_NAMES.get(exitCode - 128);
  return name === undefined ? { exitCode, signal } : { exitCode: null, signal: name };
}
