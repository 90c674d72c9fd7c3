import { tmpdir } from 'node:os';
import { MasaError } from '@masa-rl/core';
import { detectSandbox, getPythonFacts, type SandboxInternalOptions } from './detect-sandbox.js';
import { executeRun, type Isolation, type RunPythonResult } from './execute-run.js';

export interface RunPythonOptions {
  /** Program text (the model's code + newline + the asserts). */
  code: string;
  /** Wall-clock limit; the whole process group is killed at this deadline. @default 10_000 */
  timeoutMs?: number;
  /** CPU-time limit in seconds (RLIMIT_CPU), per process. @default ceil(timeoutMs/1000) */
  cpuSeconds?: number;
  /** Address-space limit in MiB (RLIMIT_AS), per process. @default 512 */
  memoryMb?: number;
  /** Max processes/threads (RLIMIT_NPROC under a private uid or user namespace). @default 16 */
  maxProcesses?: number;
  /** Max bytes captured from stdout+stderr; the program is killed when exceeded. @default 1 MiB */
  maxOutputBytes?: number;
  /** Max size of any file it writes (RLIMIT_FSIZE). Under bubblewrap each writable tmpfs holds at most 2× this. @default 10 MiB */
  maxFileBytes?: number;
  /** Python interpreter (a name on PATH or a path). @default 'python3' */
  python?: string;
  /** Force an isolation level ('auto' picks bwrap when it works). @default 'auto' */
  isolation?: 'auto' | Isolation;
  /** Aborting kills the run; the result then has status `killed`. */
  signal?: AbortSignal;
  /** Test seams. */
  _internal?: SandboxInternalOptions & {
    /** Called once the sandbox process exists, with its pid (= process group id) and host temp folder. */
    onSpawn?: (info: { pid: number; tempDir: string }) => void;
  };
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MEMORY_MB = 512;
export const DEFAULT_MAX_PROCESSES = 16;
export const DEFAULT_MAX_OUTPUT_BYTES = 1 << 20;
export const DEFAULT_MAX_FILE_BYTES = 10 << 20;

/** Throws `ARGUMENT_INVALID` naming the option unless `test(value)`. */
function check(value: unknown, name: string, test: boolean, expected: string, example: string): void {
  if (!test) {
    throw new MasaError('ARGUMENT_INVALID', `runPython: option ${name} must be ${expected} (got ${String(value)}); for example ${name}: ${example}`, {
      details: { option: name, value },
    });
  }
}

const isPositiveInteger = (value: number): boolean => Number.isSafeInteger(value) && value > 0;

/**
 * Runs one untrusted Python program in a fresh interpreter, in a fresh
 * temporary folder (removed afterwards), with no network, no writes outside
 * that folder, and CPU, memory, process, file-size and output limits. The
 * whole process tree is killed at `timeoutMs`.
 *
 * Resolves for every way the program can end (see `RunStatus`); throws
 * `ARGUMENT_INVALID` for bad options, `RUNTIME_UNAVAILABLE` when Python (or
 * forced bubblewrap) is missing, and `SANDBOX_FAILED` when the sandbox could
 * not be set up.
 */
export async function runPython(options: RunPythonOptions): Promise<RunPythonResult> {
  const {
    code,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    memoryMb = DEFAULT_MEMORY_MB,
    maxProcesses = DEFAULT_MAX_PROCESSES,
    maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
    maxFileBytes = DEFAULT_MAX_FILE_BYTES,
    python = 'python3',
    isolation = 'auto',
    signal,
    _internal: internal = {},
  } = options;
  check(code, 'code', typeof code === 'string', 'the program text (a string)', "'print(1)'");
  check(timeoutMs, 'timeoutMs', typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0, 'a positive number of milliseconds', '10_000');
  const cpuSeconds = options.cpuSeconds ?? Math.ceil(timeoutMs / 1000);
  check(cpuSeconds, 'cpuSeconds', isPositiveInteger(cpuSeconds), 'a positive whole number of seconds', '10');
  check(memoryMb, 'memoryMb', typeof memoryMb === 'number' && Number.isFinite(memoryMb) && memoryMb >= 16, 'at least 16 (MiB; Python itself needs about 10)', '512');
  check(maxProcesses, 'maxProcesses', isPositiveInteger(maxProcesses), 'a positive whole number', '16');
  check(maxOutputBytes, 'maxOutputBytes', Number.isSafeInteger(maxOutputBytes) && maxOutputBytes >= 0, 'a whole number of bytes ≥ 0', '1_048_576');
  check(maxFileBytes, 'maxFileBytes', Number.isSafeInteger(maxFileBytes) && maxFileBytes >= 0, 'a whole number of bytes ≥ 0', '10_485_760');
  check(python, 'python', typeof python === 'string' && python !== '', 'an interpreter name or path', "'python3'");
  check(isolation, 'isolation', isolation === 'auto' || isolation === 'bwrap' || isolation === 'rlimits', "'auto', 'bwrap' or 'rlimits'", "'auto'");

  const facts = await getPythonFacts(python);
  // 'bwrap' is probed too, so a broken bubblewrap fails with an actionable RUNTIME_UNAVAILABLE.
  const chosen: Isolation =
    isolation === 'rlimits' ? 'rlimits' : (await detectSandbox({ python, isolation, _internal: internal })).isolation;
  const { result } = await executeRun({
    code,
    timeoutMs,
    cpuSeconds,
    memoryBytes: Math.floor(memoryMb * 2 ** 20),
    maxProcesses,
    maxOutputBytes,
    maxFileBytes,
    isolation: chosen,
    facts,
    signal,
    tmpRoot: internal.tmpRoot ?? tmpdir(),
    bwrapPath: internal.bwrapPath ?? 'bwrap',
    onSpawn: internal.onSpawn,
  });
  return result;
}
