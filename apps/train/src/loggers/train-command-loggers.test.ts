/**
 * The loggers inside `masa train` (the real child process, like
 * train-command.test.ts: needs the built `dist/worker.js`, skipped when
 * absent) with the simulated policy.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SMALL_RUN, tempDir } from '../__tests__/fake-run.js';
import { resumeCommand, runTrainCommand, type TrainCommandIo } from '../train-command.js';
import { asFloat32, eventFiles, metricsLines, shownScalars } from './__tests__/run-files.js';
import { TENSORBOARD_DIR } from './run-loggers.js';
import type { WandbSdk } from './wandb-logger.js';

const workerPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'worker.js');
const built = existsSync(workerPath);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temp(label: string): string {
  const dir = tempDir(label);
  dirs.push(dir);
  return dir;
}

function io(extra: Partial<TrainCommandIo> = {}): TrainCommandIo & { stderrText: () => string; started: () => boolean } {
  let stderr = '';
  let started = false;
  return {
    stdout: { write: () => true },
    stderr: { write: (chunk: string) => ((stderr += chunk), true) },
    isTTY: false,
    env: {},
    ...extra,
    _internal: { workerPath, onStarted: () => (started = true), ...extra._internal },
    stderrText: () => stderr,
    started: () => started,
  };
}

describe('resumeCommand', () => {
  it('repeats the logger flags', () => {
    expect(resumeCommand({ tensorboard: false, wandb: true, wandbProject: 'my project', wandbName: 'n1' }, '/r', '/', 'masa')).toBe(
      "masa train --resume --run-dir r --no-tensorboard --wandb --wandb-project 'my project' --wandb-name n1",
    );
    expect(resumeCommand({}, '/r', '/', 'masa')).toBe('masa train --resume --run-dir r');
  });
});

describe.skipIf(!built)('masa train with loggers (child process, simulated policy)', () => {
  it('writes TensorBoard event files by default, matching metrics.jsonl', async () => {
    const runDir = temp('tb');
    await runTrainCommand({ backend: 'fake', runDir, set: SMALL_RUN }, io());
    const lines = metricsLines(runDir);
    const shown = shownScalars(eventFiles(runDir));
    expect([...shown.keys()]).toEqual(lines.map((line) => line['step']));
    for (const line of lines) expect(shown.get(line['step'] ?? -1)).toEqual(asFloat32(line));
  });

  it('trainer.logger with wandb (and --no-tensorboard) logs every step to W&B and prints the run page', async () => {
    const runDir = temp('wandb');
    const rows: Array<{ step: number | undefined; data: Record<string, unknown> }> = [];
    const finished: number[] = [];
    const sdk: WandbSdk = {
      init: () => Promise.resolve({ id: 'r', log: (data, step) => rows.push({ step, data }), finish: (code) => (finished.push(code ?? 0), Promise.resolve()), url: () => 'https://wandb.ai/me/masa-rl/runs/r' }),
    };
    const streams = io({ env: { WANDB_API_KEY: 'k'.repeat(40) }, _internal: { importWandbSdk: () => Promise.resolve({ default: sdk }) } });
    await runTrainCommand({ backend: 'fake', runDir, set: [...SMALL_RUN, 'trainer.logger=["console","wandb"]'], tensorboard: false }, streams);
    expect(existsSync(join(runDir, TENSORBOARD_DIR))).toBe(false);
    expect(rows.map((row) => row.step)).toEqual(metricsLines(runDir).map((line) => line['step']));
    expect(finished).toEqual([0]);
    expect(streams.stderrText()).toContain('W&B: logging to https://wandb.ai/me/masa-rl/runs/r');
  });

  it('--wandb without a login fails before the training process starts', async () => {
    const runDir = temp('nologin');
    const streams = io({ _internal: { homeDir: temp('home'), importWandbSdk: () => Promise.resolve({ default: { init: () => Promise.reject(new Error('unreachable')) } }) } });
    let caught: unknown;
    try {
      await runTrainCommand({ backend: 'fake', runDir, set: SMALL_RUN, wandb: true }, streams);
    } catch (error: unknown) {
      caught = error;
    }
    expect(MasaError.isInstance(caught) && caught.code).toBe('RUNTIME_UNAVAILABLE');
    expect((caught as Error).message).toMatch(/not logged in to Weights & Biases.*`wandb login`.*WANDB_API_KEY/);
    expect(streams.started()).toBe(false);
    expect(readdirSync(runDir)).toEqual([]);
  });
});
