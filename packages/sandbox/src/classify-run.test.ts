import { describe, expect, it } from 'vitest';
import { parseBootstrapReport } from './bootstrap-source.js';
import { classifyRun, decodeWrapperExit, endsWithMemoryError } from './classify-run.js';

const ending = (overrides: Partial<Parameters<typeof classifyRun>[0]>) => ({ killReason: null, exitCode: 0, signal: null, stderr: '', ...overrides });

describe('classifyRun', () => {
  it('puts the runner’s own kill first', () => {
    expect(classifyRun(ending({ killReason: 'aborted', exitCode: 0 }))).toBe('killed');
    expect(classifyRun(ending({ killReason: 'timeout', exitCode: null, signal: 'SIGKILL' }))).toBe('timeout');
    expect(classifyRun(ending({ killReason: 'output-limit', signal: 'SIGKILL' }))).toBe('output-limit');
  });

  it('ok only for exit code 0', () => {
    expect(classifyRun(ending({}))).toBe('ok');
    expect(classifyRun(ending({ exitCode: 1 }))).toBe('error');
    expect(classifyRun(ending({ exitCode: 0, stderr: 'MemoryError' }))).toBe('ok');
  });

  it('maps SIGXCPU to timeout, MemoryError to memory, other signals to killed', () => {
    expect(classifyRun(ending({ exitCode: null, signal: 'SIGXCPU' }))).toBe('timeout');
    expect(classifyRun(ending({ exitCode: 1, stderr: 'Traceback (most recent call last):\n  File "main.py", line 1\nMemoryError\n' }))).toBe('memory');
    expect(classifyRun(ending({ exitCode: null, signal: 'SIGSEGV' }))).toBe('killed');
  });
});

describe('endsWithMemoryError', () => {
  it('looks at the last non-empty line only', () => {
    expect(endsWithMemoryError('x\nMemoryError: cannot allocate\n\n')).toBe(true);
    expect(endsWithMemoryError('MemoryError\nValueError: later')).toBe(false);
    expect(endsWithMemoryError('NotAMemoryError')).toBe(false);
  });
});

describe('decodeWrapperExit', () => {
  it('turns 128 + N into the signal name (Linux numbering: SIGKILL 9, SIGXCPU 24)', () => {
    expect(decodeWrapperExit(137, null)).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(decodeWrapperExit(152, null)).toEqual({ exitCode: null, signal: 'SIGXCPU' });
    expect(decodeWrapperExit(1, null)).toEqual({ exitCode: 1, signal: null });
    expect(decodeWrapperExit(128, null)).toEqual({ exitCode: 128, signal: null });
    expect(decodeWrapperExit(null, 'SIGTERM')).toEqual({ exitCode: null, signal: 'SIGTERM' });
  });
});

describe('parseBootstrapReport', () => {
  it('reads each status line', () => {
    const report = parseBootstrapReport('start\nnetwork isolated\npidns on\nuid 1600000001\nseccomp on\n');
    expect(report).toEqual({
      started: true,
      error: null,
      network: 'isolated',
      pidNamespace: true,
      uid: 1600000001,
      uidKept: null,
      seccomp: true,
      seccompOff: null,
    });
  });

  it('keeps reasons for what did not happen', () => {
    const report = parseBootstrapReport('start\nuid-kept not readable\nuid 0\nseccomp off errno 22\nerror could not start x\n');
    expect(report).toMatchObject({ uid: 0, uidKept: 'not readable', seccomp: false, seccompOff: 'errno 22', error: 'could not start x' });
    expect(parseBootstrapReport('').started).toBe(false);
  });
});
