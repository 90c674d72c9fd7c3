export { runPython, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_PROCESSES, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_MS } from './run-python.js';
export type { RunPythonOptions } from './run-python.js';
export type { Isolation, RunPythonResult } from './execute-run.js';
export type { RunStatus } from './classify-run.js';
export { detectSandbox } from './detect-sandbox.js';
export type { DetectSandboxOptions, SandboxGuarantees, SandboxInfo, SandboxInternalOptions } from './detect-sandbox.js';
