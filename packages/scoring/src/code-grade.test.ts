import { MasaError } from '@masa-rl/core';
import type { RunPythonOptions, RunPythonResult } from '@masa-rl/sandbox';
import { describe, expect, it } from 'vitest';
import { buildCodeProgram, gradeCode } from './code-grade.js';

const TESTS = ['assert add(1, 2) == 3', 'assert add(-1, 1) == 0'];
const GOOD = 'Sure.\n```python\ndef add(a, b):\n    return a + b\n```\nDone.';
const BAD = '```python\ndef add(a, b):\n    return a - b\n```';

function fakeRunner(result: Partial<RunPythonResult>, seen: RunPythonOptions[] = []) {
  return async (options: RunPythonOptions): Promise<RunPythonResult> => {
    seen.push(options);
    return { status: 'ok', exitCode: 0, signal: null, stdout: '', stderr: '', wallMs: 1, isolation: 'rlimits', ...result };
  };
}

describe('buildCodeProgram', () => {
  it('is the extracted code, a newline, then the asserts one per line', () => {
    expect(buildCodeProgram(GOOD, TESTS)).toBe('def add(a, b):\n    return a + b\n\nassert add(1, 2) == 3\nassert add(-1, 1) == 0');
  });

  it('differs between modes only in how the code is found', () => {
    const thinking = '<think>```python\ndef add(a, b): return 0\n```</think>```python\ndef add(a, b): return a + b\n```';
    expect(buildCodeProgram(thinking, TESTS, 'masa-parity')).toContain('return 0');
    expect(buildCodeProgram(thinking, TESTS, 'correct')).toContain('return a + b');
  });
});

describe('gradeCode with a stand-in sandbox', () => {
  it('passes iff the program exits cleanly, with the reference 10 s limit', async () => {
    const seen: RunPythonOptions[] = [];
    const passed = await gradeCode({ response: GOOD, tests: TESTS, _internal: { runPython: fakeRunner({}, seen) } });
    expect(passed).toMatchObject({ equal: true, reason: 'tests-passed', status: 'ok' });
    expect(seen[0]?.timeoutMs).toBe(10_000);
    const failed = await gradeCode({
      response: BAD,
      tests: TESTS,
      _internal: { runPython: fakeRunner({ status: 'error', exitCode: 1, stderr: 'Traceback …\nAssertionError\n' }) },
    });
    expect(failed).toMatchObject({ equal: false, reason: 'tests-failed: AssertionError', status: 'ok' });
    const slow = await gradeCode({ response: BAD, tests: TESTS, _internal: { runPython: fakeRunner({ status: 'timeout', exitCode: null, signal: 'SIGKILL' }) } });
    expect(slow).toMatchObject({ equal: false, reason: 'program-timeout', status: 'ok' });
  });

  it('reports a sandbox that cannot run as status error, never a crash', async () => {
    const verdict = await gradeCode({
      response: GOOD,
      tests: TESTS,
      _internal: {
        runPython: async () => {
          throw new MasaError('RUNTIME_UNAVAILABLE', 'python3 not found');
        },
      },
    });
    expect(verdict).toMatchObject({ equal: false, status: 'error', reason: 'sandbox-failed' });
  });

  it('refuses a problem without tests', async () => {
    await expect(gradeCode({ response: GOOD, tests: [] })).rejects.toSatisfy((error: unknown) => MasaError.hasCode(error, 'DATASET_INVALID'));
  });
});

describe('gradeCode through the real sandbox', () => {
  it('runs a correct and a wrong solution', async () => {
    const good = await gradeCode({ response: GOOD, tests: TESTS });
    if (good.status === 'error') {
      // No Python on this machine: the verdict must say so rather than crash.
      expect(good.reason).toBe('sandbox-failed');
      return;
    }
    expect(good.equal).toBe(true);
    const bad = await gradeCode({ response: BAD, tests: TESTS });
    expect(bad.equal).toBe(false);
    expect(bad.reason).toContain('AssertionError');
  });
});
