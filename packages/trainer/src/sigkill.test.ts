/**
 * A real kill: a child process trains with checkpoints every step and is
 * SIGKILLed at a random step; a second process resumes from the run folder and
 * must end bit-identical to an uninterrupted process. Uses the built package
 * (`dist/`, built by CI before the tests); skipped when it is absent.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { tempRunDir } from './__tests__/arith-task.js';
import { findLatestCheckpoint } from './checkpoint.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, '__fixtures__', 'kill-child.mjs');
const built = existsSync(join(here, '..', 'dist', 'index.js')) && existsSync(join(here, '..', 'dist', 'test', 'index.js'));

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface ChildRun {
  stdout: string;
  signal: NodeJS.Signals | null;
  code: number | null;
}

function runChild(runDir: string, killAfterStep?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, runDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAfterStep !== undefined && stdout.includes(`step-end ${killAfterStep}\n`)) proc.kill('SIGKILL');
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve({ stdout, signal, code });
    });
  });
}

const weightsOf = (stdout: string): string => stdout.split('\n').find((line) => line.startsWith('weights ')) ?? 'none';

describe.skipIf(!built)('SIGKILL and resume (child processes, built package)', () => {
  it('a killed run resumes from the last complete checkpoint and ends bit-identical', async () => {
    const referenceDir = tempRunDir();
    const killedDir = tempRunDir();
    dirs.push(referenceDir, killedDir);
    const reference = await runChild(referenceDir);
    expect(reference.stdout).toContain('step-end 12\n');

    const killAt = createRng('sigkill').int(2, 9);
    const killed = await runChild(killedDir, killAt);
    expect(killed.signal).toBe('SIGKILL');
    const latest = await findLatestCheckpoint(join(killedDir, 'checkpoints'));
    expect(latest?.step).toBeGreaterThanOrEqual(killAt - 1);

    const resumed = await runChild(killedDir);
    expect(weightsOf(resumed.stdout)).toBe(weightsOf(reference.stdout));
    expect(readFileSync(join(killedDir, 'metrics.jsonl'), 'utf8')).toBe(readFileSync(join(referenceDir, 'metrics.jsonl'), 'utf8'));
  });
});
