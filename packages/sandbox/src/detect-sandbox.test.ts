import { existsSync } from 'node:fs';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { detectSandbox, getPythonFacts } from './detect-sandbox.js';
import { minimalCover } from './python-facts.js';
import { runPython } from './run-python.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const NO_BWRAP = { bwrapPath: '/nonexistent/masa-test/bwrap' };

describe('detectSandbox', () => {
  it('reports the interpreter and an isolation level; a fallback always carries a warning', async () => {
    const info = await detectSandbox({ python: PYTHON });
    expect(info.pythonVersion).toMatch(/^3\.\d+\.\d+/);
    expect(info.python.startsWith('/')).toBe(true);
    if (info.isolation === 'bwrap') {
      expect(info.guarantees).toMatchObject({ network: true, filesystem: true, cleanup: true });
    } else {
      expect(info.warning).toMatch(/bubblewrap unusable/);
    }
  });

  it('falls back to rlimits with a one-line warning when bubblewrap is missing', async () => {
    const info = await detectSandbox({ python: PYTHON, _internal: NO_BWRAP });
    expect(info.isolation).toBe('rlimits');
    expect(info.guarantees.filesystem).toBe(false);
    expect(info.warning).toMatch(/bubblewrap unusable \(bubblewrap .* could not be started/);
    expect(info.warning).toMatch(/install bubblewrap/);
    expect(info.warning).toMatch(/filesystem NOT isolated/);
    expect(info.warning).not.toContain('\n');
  });

  it('runPython with isolation auto then runs under rlimits', async () => {
    const result = await runPython({ code: 'print("fallback")', python: PYTHON, _internal: NO_BWRAP });
    expect(result).toMatchObject({ status: 'ok', stdout: 'fallback\n', isolation: 'rlimits' });
  });

  it('throws RUNTIME_UNAVAILABLE with an install hint when bubblewrap is forced but missing', async () => {
    for (const attempt of [
      () => detectSandbox({ python: PYTHON, isolation: 'bwrap', _internal: NO_BWRAP }),
      () => runPython({ code: 'print(1)', python: PYTHON, isolation: 'bwrap', _internal: NO_BWRAP }),
    ]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(MasaError.hasCode(error, 'RUNTIME_UNAVAILABLE')).toBe(true);
      expect((error as MasaError).message).toMatch(/apt-get install bubblewrap/);
    }
  });

  it('throws RUNTIME_UNAVAILABLE for an interpreter that does not exist', async () => {
    const error = await detectSandbox({ python: '/nonexistent/python3' }).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'RUNTIME_UNAVAILABLE')).toBe(true);
    expect((error as MasaError).message).toMatch(/pass the option python/);
  });

  it('reads each interpreter once (cached promise)', () => {
    expect(getPythonFacts(PYTHON)).toBe(getPythonFacts(PYTHON));
  });
});

describe('minimalCover', () => {
  it('drops duplicates, trailing slashes, nested folders and the root', () => {
    expect(minimalCover(['/opt/py/', '/opt/py/bin', '/opt/py', '/usr', '/usr/lib/x', '/', 'relative', '/opt/python'])).toEqual([
      '/opt/py',
      '/opt/python',
      '/usr',
    ]);
  });
});
