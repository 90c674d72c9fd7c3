import { MasaError } from '@masa-rl/core';
import { resolveConfig } from '@masa-rl/trainer';
import { describe, expect, it } from 'vitest';
import { extractLoggerSetting } from './logger-setting.js';

const BASE = 'data:\n  train_files: synthetic-arith\n';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error: unknown) {
    return MasaError.isInstance(error) ? `${error.code}: ${error.message}` : String(error);
  }
  return undefined;
}

describe('extractLoggerSetting', () => {
  it('takes a block list out of the file as comments, keeping every line number', () => {
    const text = `${BASE}trainer:\n  logger:\n    - console\n    - wandb\n  seed: 7\n  bogus_key: 1\n`;
    const setting = extractLoggerSetting({ file: { text, path: 'run.yaml' } });
    expect(setting.loggers).toEqual(['console', 'wandb']);
    expect(setting.file?.text).toBe(`${BASE}trainer:\n  # logger:\n    # - console\n    # - wandb\n  seed: 7\n  bogus_key: 1\n`);
    // The trainer still reports the typo on its original line (8).
    expect(codeOf(() => resolveConfig({ file: setting.file ?? { text, path: 'run.yaml' } }))).toMatch(/run\.yaml:8: trainer\.bogus_key: unknown key/);
  });

  it('handles a flow list, and a trainer section that held only the logger', () => {
    const text = `${BASE}trainer:\n  logger: ['console', 'wandb']  # verl style\nmasa:\n  meta_n: 4\n`;
    const setting = extractLoggerSetting({ file: { text, path: 'run.yaml' } });
    expect(setting.loggers).toEqual(['console', 'wandb']);
    expect(setting.file?.text).toBe(`${BASE}trainer: {}\n  # logger: ['console', 'wandb']  # verl style\nmasa:\n  meta_n: 4\n`);
    const config = resolveConfig({ file: setting.file ?? { text, path: 'x' } });
    expect(config.masa.meta_n).toBe(4);
    expect(config.trainer.seed).toBe(1);
  });

  it('handles a flow-style trainer map by rewriting the document', () => {
    const text = `${BASE}trainer: {logger: [tensorboard], seed: 3}\n`;
    const setting = extractLoggerSetting({ file: { text, path: 'run.yaml' } });
    expect(setting.loggers).toEqual(['tensorboard']);
    expect(resolveConfig({ file: setting.file ?? { text, path: 'x' } }).trainer.seed).toBe(3);
  });

  it('leaves a file without the key untouched', () => {
    const text = `${BASE}trainer:\n  seed: 2\n`;
    expect(extractLoggerSetting({ file: { text, path: 'a.yaml' } })).toEqual({ file: { text, path: 'a.yaml' }, overrides: [], loggers: undefined });
    expect(extractLoggerSetting({})).toEqual({ overrides: [], loggers: undefined });
  });

  it('takes trainer.logger out of --set (JSON, verl/Hydra style, or one name); the last one wins', () => {
    const setting = extractLoggerSetting({
      file: { text: `${BASE}trainer:\n  logger: [console]\n  seed: 2\n`, path: 'a.yaml' },
      overrides: ['trainer.seed=4', `trainer.logger=['console','wandb']`, 'data.train_batch_size=8'],
    });
    expect(setting.loggers).toEqual(['console', 'wandb']);
    expect(setting.overrides).toEqual(['trainer.seed=4', 'data.train_batch_size=8']);
    expect(extractLoggerSetting({ overrides: ['trainer.logger=["wandb"]'] }).loggers).toEqual(['wandb']);
    expect(extractLoggerSetting({ overrides: ['trainer.logger=[console,tensorboard]'] }).loggers).toEqual(['console', 'tensorboard']);
    expect(extractLoggerSetting({ overrides: ['trainer.logger=wandb'] }).loggers).toEqual(['wandb']);
  });

  it('names the file line or the --set of an unknown logger', () => {
    const text = `${BASE}trainer:\n  seed: 1\n  logger: [console, mlflow]\n`;
    expect(codeOf(() => extractLoggerSetting({ file: { text, path: 'run.yaml' } }))).toBe(
      'CONFIG_INVALID: run.yaml:5: trainer.logger: unknown logger "mlflow"; use any of console, tensorboard, wandb',
    );
    expect(codeOf(() => extractLoggerSetting({ overrides: ['trainer.logger={a: 1}'] }))).toMatch(/^CONFIG_INVALID: --set trainer\.logger=\{a: 1\}: trainer\.logger must be a list/);
  });
});
