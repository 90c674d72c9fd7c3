import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPythonFacts } from './detect-sandbox.js';
import { executeRun, type ExecutePlan } from './execute-run.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Fake "bubblewrap" scripts that stand in for a broken wrapper. */
let fakes: string;
beforeAll(async () => {
  fakes = await mkdtemp(join(tmpdir(), 'masa-sandbox-fakes-'));
  // fails before running anything, like bwrap without user namespaces
  await writeFile(join(fakes, 'broken-bwrap'), '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n');
  // "runs" a bootstrap that reports it could not apply the sandbox
  await writeFile(join(fakes, 'failing-bootstrap'), '#!/bin/sh\nprintf "start\\nerror could not set resource limits: boom\\n" >&3\nexit 125\n');
  await chmod(join(fakes, 'broken-bwrap'), 0o755);
  await chmod(join(fakes, 'failing-bootstrap'), 0o755);
});
afterAll(async () => {
  await rm(fakes, { recursive: true, force: true });
});

async function plan(overrides: Partial<ExecutePlan>): Promise<ExecutePlan> {
  return {
    code: 'print(1)\n',
    timeoutMs: 5_000,
    cpuSeconds: 5,
    memoryBytes: 256 * 2 ** 20,
    maxProcesses: 16,
    maxOutputBytes: 1 << 20,
    maxFileBytes: 1 << 20,
    isolation: 'bwrap',
    facts: await getPythonFacts(PYTHON),
    tmpRoot: tmpdir(),
    bwrapPath: 'bwrap',
    ...overrides,
  };
}

describe('executeRun failures of the sandbox itself', () => {
  it('throws SANDBOX_FAILED with the wrapper’s message when bubblewrap cannot set up', async () => {
    const error = await executeRun(await plan({ bwrapPath: join(fakes, 'broken-bwrap') })).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'SANDBOX_FAILED')).toBe(true);
    expect((error as MasaError).message).toMatch(/No permissions to create new namespace/);
    expect((error as MasaError).message).toMatch(/isolation: 'rlimits'/);
  });

  it('throws SANDBOX_FAILED when the bootstrap reports an error', async () => {
    const error = await executeRun(await plan({ bwrapPath: join(fakes, 'failing-bootstrap') })).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'SANDBOX_FAILED')).toBe(true);
    expect((error as MasaError).message).toMatch(/bootstrap failed: could not set resource limits: boom/);
  });

  it('throws RUNTIME_UNAVAILABLE when the wrapper does not exist', async () => {
    const error = await executeRun(await plan({ bwrapPath: join(fakes, 'no-such-bwrap') })).catch((caught: unknown) => caught);
    expect(MasaError.hasCode(error, 'RUNTIME_UNAVAILABLE')).toBe(true);
    expect((error as MasaError).message).toMatch(/apt-get install bubblewrap/);
  });

  it('removes its temporary folder even when the sandbox fails', async () => {
    const root = await mkdtemp(join(tmpdir(), 'masa-sandbox-root-'));
    try {
      await executeRun(await plan({ bwrapPath: join(fakes, 'broken-bwrap'), tmpRoot: root })).catch(() => undefined);
      const { readdir } = await import('node:fs/promises');
      expect(await readdir(root)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
