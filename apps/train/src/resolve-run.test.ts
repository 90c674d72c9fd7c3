import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeRun, tempDir } from './__tests__/fake-run.js';
import { EMBEDDED_ALGORITHM, preflightRun, resolveTrainRun } from './resolve-run.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error: unknown) {
    return MasaError.isInstance(error) ? error.code : 'not a MasaError';
  }
  return undefined;
}

async function asyncCodeOf(action: () => Promise<unknown>): Promise<{ code: string; message: string } | undefined> {
  try {
    await action();
  } catch (error: unknown) {
    return MasaError.isInstance(error) ? { code: error.code, message: error.message } : { code: 'not a MasaError', message: String(error) };
  }
  return undefined;
}

describe('resolveTrainRun', () => {
  it('without --config runs the embedded tiny-arith run in runs/tiny-arith-<algo>', () => {
    const cwd = tempDir('cwd');
    dirs.push(cwd);
    const run = resolveTrainRun({ cwd });
    expect(run.embedded).toBe(true);
    expect(run.config.algorithm.name).toBe(EMBEDDED_ALGORITHM);
    expect(run.config.data.train_files).toBe('synthetic-arith');
    expect(run.config.masa.meta_prompt_template).toBe('tiny');
    expect(run.runDir).toBe(join(cwd, 'runs', 'tiny-arith-masa-efficient'));
    expect(run.configText).toContain('default_local_dir: runs/tiny-arith-masa-efficient');
    const grpo = resolveTrainRun({ cwd, algo: 'grpo', overrides: ['data.train_batch_size=8'] });
    expect(grpo.config.algorithm.name).toBe('grpo');
    expect(grpo.config.data.train_batch_size).toBe(8);
    expect(grpo.runDir).toBe(join(cwd, 'runs', 'tiny-arith-grpo'));
    // dapo turns on dynamic sampling through the trainer's preset
    expect(resolveTrainRun({ cwd, algo: 'dapo' }).config.algorithm.filter_groups.enable).toBe(true);
  });

  it('--run-dir, --set and --resume land in the resolved config (flag > file > default)', () => {
    const cwd = tempDir('cwd');
    dirs.push(cwd);
    const file = join(cwd, 'my.yaml');
    writeFileSync(file, 'data:\n  train_files: synthetic-arith\n  train_batch_size: 2\ntrainer:\n  default_local_dir: runs/mine\nalgorithm:\n  name: masa\n');
    const run = resolveTrainRun({ cwd, configPath: 'my.yaml', overrides: ['data.train_batch_size=3'] });
    expect(run.embedded).toBe(false);
    expect(run.config.data.train_batch_size).toBe(3);
    expect(run.config.algorithm.name).toBe('masa');
    expect(run.runDir).toBe(join(cwd, 'runs', 'mine'));
    const moved = resolveTrainRun({ cwd, configPath: 'my.yaml', runDir: 'elsewhere/123', resume: 'elsewhere/123/checkpoints/step-2', algo: 'grpo' });
    expect(moved.runDir).toBe(join(cwd, 'elsewhere', '123'));
    expect(moved.config.trainer.resume_mode).toBe('resume_path');
    expect(moved.config.trainer.resume_from_path).toBe(join(cwd, 'elsewhere/123/checkpoints/step-2'));
    expect(moved.config.algorithm.name).toBe('grpo');
  });

  it('names the fix for a newcomer’s mistakes', () => {
    const cwd = tempDir('cwd');
    dirs.push(cwd);
    expect(codeOf(() => resolveTrainRun({ cwd, algo: 'ppo' }))).toBe('ARGUMENT_INVALID');
    expect(codeOf(() => resolveTrainRun({ cwd, configPath: 'missing.yaml' }))).toBe('FILE_NOT_FOUND');
    expect(() => resolveTrainRun({ cwd, overrides: ['trainer.total_trainig_steps=3'] })).toThrow(/total_trainig_steps.*did you mean total_training_steps/);
    expect(codeOf(() => resolveTrainRun({ cwd, overrides: ['data.train_files=nothing/here.jsonl'] }))).toBe('DATASET_NOT_FOUND');
  });
});

describe('preflightRun', () => {
  it('rejects a run folder that cannot be written', async () => {
    const cwd = tempDir('cwd');
    dirs.push(cwd);
    writeFileSync(join(cwd, 'a-file'), '');
    const run = resolveTrainRun({ cwd, runDir: 'a-file/run' });
    const failure = await asyncCodeOf(() => preflightRun(run));
    expect(failure?.code).toBe('FILE_WRITE_FAILED');
    expect(failure?.message).toMatch(/--run-dir/);
  });

  it('continues a folder that holds a run only with --resume, and checks the checkpoint it resumes from', async () => {
    const cwd = tempDir('cwd');
    dirs.push(cwd);
    const runDir = join(cwd, 'run');
    const fresh = resolveTrainRun({ cwd, runDir: 'run' });
    expect(await asyncCodeOf(() => preflightRun(fresh, true))).toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringMatching(/nothing to resume/) });
    await fakeRun({ runDir });
    expect(await asyncCodeOf(() => preflightRun(fresh))).toMatchObject({ code: 'ARGUMENT_INVALID', message: expect.stringMatching(/--resume/) });
    expect(await asyncCodeOf(() => preflightRun(resolveTrainRun({ cwd, runDir: 'run', resume: true }), true))).toBeUndefined();
    // A damaged checkpoint: a weights file changed after the manifest was written.
    writeFileSync(join(runDir, 'checkpoints', 'step-6', 'weights', 'weights.bin'), 'garbage');
    const byPath = resolveTrainRun({ cwd, runDir: 'run', resume: 'run/checkpoints/step-6' });
    const damaged = await asyncCodeOf(() => preflightRun(byPath, 'run/checkpoints/step-6'));
    expect(damaged?.code).toBe('CHECKPOINT_INVALID');
    expect(damaged?.message).toMatch(/step-6.*--resume` without a path picks the latest complete one \(.*step-3\)/);
    const missing = resolveTrainRun({ cwd, runDir: 'run', resume: 'run/checkpoints/step-5' });
    expect(await asyncCodeOf(() => preflightRun(missing, 'run/checkpoints/step-5'))).toMatchObject({ code: 'FILE_NOT_FOUND' });
    mkdirSync(join(cwd, 'other'));
    expect(await asyncCodeOf(() => preflightRun(resolveTrainRun({ cwd, runDir: 'other' })))).toBeUndefined();
  });
});
