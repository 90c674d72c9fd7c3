import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '@masa-rl/trainer';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeRun, tempDir } from '../__tests__/fake-run.js';
import type { JobMessage } from '../train-job.js';
import { asFloat32, eventFiles, metricsLines, shownScalars } from './__tests__/run-files.js';
import { createRunLoggers, TENSORBOARD_DIR, type CreateRunLoggersOptions } from './run-loggers.js';
import type { WandbSdk } from './wandb-logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temp(label: string): string {
  const dir = tempDir(label);
  dirs.push(dir);
  return dir;
}

const config = resolveConfig({ overrides: ['data.train_files=x.jsonl', 'trainer.experiment_name=exp-1'] });

function fakeWandb(): { importWandbSdk: () => Promise<unknown>; rows: Array<{ step: number | undefined; data: Record<string, unknown> }>; inits: unknown[]; finished: number[] } {
  const rows: Array<{ step: number | undefined; data: Record<string, unknown> }> = [];
  const inits: unknown[] = [];
  const finished: number[] = [];
  const sdk: WandbSdk = {
    init: (options) => {
      inits.push(options);
      return Promise.resolve({ id: 'r', log: (data, step) => rows.push({ step, data }), finish: (code) => (finished.push(code ?? 0), Promise.resolve()), url: () => 'https://wandb.ai/t/p/runs/r' });
    },
  };
  return { importWandbSdk: () => Promise.resolve({ default: sdk }), rows, inits, finished };
}

async function feed(messages: readonly JobMessage[], options: CreateRunLoggersOptions, exitCode = 0): Promise<string[]> {
  const notices: string[] = [];
  const loggers = await createRunLoggers({ log: (line) => notices.push(line), ...options });
  for (const message of messages) loggers.onMessage(message);
  await loggers.close(exitCode);
  return notices;
}

describe('createRunLoggers on a real (simulated-policy) training run', () => {
  it('TensorBoard and W&B get exactly what metrics.jsonl holds, one row per step', async () => {
    const runDir = temp('loggers');
    const messages = await fakeRun({ runDir });
    const wandb = fakeWandb();
    const notices = await feed(messages, {
      runDir,
      config,
      wandb: true,
      env: { WANDB_API_KEY: 'k'.repeat(40) },
      _internal: { importWandbSdk: wandb.importWandbSdk, hostname: 'test-host' },
    });
    const lines = metricsLines(runDir);
    expect(lines.map((line) => line['step'])).toEqual([0, 1, 2, 3, 4, 5, 6]);

    const files = eventFiles(runDir);
    expect(files).toHaveLength(1);
    expect(readdirSync(join(runDir, TENSORBOARD_DIR))[0]).toMatch(/^events\.out\.tfevents\.\d+\.test-host$/);
    expect(files[0]?.[0]?.fileVersion).toBe('brain.Event:2');
    const shown = shownScalars(files);
    expect([...shown.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const line of lines) expect(shown.get(line['step'] ?? -1)).toEqual(asFloat32(line));
    // verl-style groups survive as TensorBoard tags.
    expect(Object.keys(shown.get(1) ?? {})).toEqual(expect.arrayContaining(['actor/pg_loss', 'critic/score/mean', 'response_length/mean']));

    expect(wandb.rows.map((row) => row.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const [index, line] of lines.entries()) {
      const { step: _step, ...rest } = line;
      expect(wandb.rows[index]?.data).toEqual(rest);
    }
    expect(wandb.inits[0]).toMatchObject({ project: 'masa-rl', name: 'exp-1' });
    expect(wandb.finished).toEqual([0]);
    expect(notices).toEqual(['W&B: logging to https://wandb.ai/t/p/runs/r']);
  });

  it('a run resumed from an earlier checkpoint: TensorBoard shows the redone steps once, as metrics.jsonl does', async () => {
    const runDir = temp('resume');
    await feed(await fakeRun({ runDir }), { runDir, config, now: () => 1_000_000 });
    // Lose the last checkpoint: the run resumes from step 3 and trains steps 4–6 again.
    rmSync(join(runDir, 'checkpoints', 'step-6'), { recursive: true });
    const resumed = await fakeRun({ runDir, resume: true });
    expect(resumed.find((message) => message.type === 'event' && message.event.type === 'run-start')).toMatchObject({ event: { startStep: 3 } });
    await feed(resumed, { runDir, config, now: () => 2_000_000 });

    const files = eventFiles(runDir);
    expect(files).toHaveLength(2);
    expect(files[1]?.find((event) => event.sessionStatus === 1)?.step).toBe(4);
    // Without the START rule the redone steps would appear twice.
    expect(files.flat().filter((event) => event.scalars !== undefined).map((event) => event.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    const shown = shownScalars(files);
    const lines = metricsLines(runDir);
    expect([...shown.keys()].sort((a, b) => a - b)).toEqual(lines.map((line) => line['step']));
    for (const line of lines) expect(shown.get(line['step'] ?? -1)).toEqual(asFloat32(line));
  });
});

describe('createRunLoggers switches', () => {
  const scripted: JobMessage[] = [
    { type: 'event', event: { type: 'run-start', algorithm: 'grpo', startStep: 0, totalSteps: 1, runDir: '/x', resumedFrom: null, engine: 'e', backend: 'b' } },
    { type: 'event', event: { type: 'step-start', step: 1, epoch: 0, lr: 0.1 } },
    { type: 'event', event: { type: 'step-end', step: 1, metrics: { step: 1, 'actor/pg_loss': 0.5 } } },
    { type: 'event', event: { type: 'run-end', step: 1, reason: 'completed', ms: 1 } },
  ];

  it('--no-tensorboard writes no folder; WANDB_MODE=disabled skips W&B with a notice', async () => {
    const runDir = temp('off');
    const wandb = fakeWandb();
    const notices = await feed(scripted, { runDir, config, tensorboard: false, wandb: true, env: { WANDB_MODE: 'disabled' }, _internal: { importWandbSdk: wandb.importWandbSdk } });
    expect(readdirSync(runDir)).toEqual([]);
    expect(wandb.inits).toEqual([]);
    expect(notices).toEqual(['W&B: WANDB_MODE=disabled, so this run is not logged to W&B']);
  });

  it('a TensorBoard folder that cannot be written is reported once and training logs go on to W&B', async () => {
    const runDir = temp('blocked');
    writeFileSync(join(runDir, TENSORBOARD_DIR), 'a file in the way');
    const wandb = fakeWandb();
    const notices = await feed(scripted, { runDir, config, wandb: { project: 'p', name: 'n' }, env: { WANDB_API_KEY: 'key' }, _internal: { importWandbSdk: wandb.importWandbSdk } }, 1);
    expect(notices).toHaveLength(2);
    expect(notices[1]).toMatch(/^TensorBoard: stopped writing event files \(cannot write TensorBoard events to .*--no-tensorboard.*\); training goes on$/);
    expect(wandb.rows).toEqual([{ step: 1, data: { 'actor/pg_loss': 0.5 } }]);
    expect(wandb.inits[0]).toMatchObject({ project: 'p', name: 'n' });
    expect(wandb.finished).toEqual([1]);
  });

  it('W&B problems surface from createRunLoggers, before any training', async () => {
    await expect(createRunLoggers({ runDir: temp('nologin'), config, wandb: true, env: {}, homeDir: temp('home'), _internal: { importWandbSdk: fakeWandb().importWandbSdk } })).rejects.toMatchObject({
      code: 'RUNTIME_UNAVAILABLE',
      message: expect.stringContaining('not logged in to Weights & Biases') as unknown,
    });
  });
});
