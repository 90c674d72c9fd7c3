import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { checkDatasetPaths, loadConfigFile } from './config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'masa-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected an error');
}

describe('loadConfigFile', () => {
  it('loads a file whose dataset exists', () => {
    writeFileSync(join(dir, 'train.jsonl'), '{}\n');
    const path = join(dir, 'ok.yaml');
    writeFileSync(path, `data:\n  train_files: ${join(dir, 'train.jsonl')}\n`);
    const config = loadConfigFile({ path, overrides: ['trainer.seed=7'] });
    expect(config.trainer.seed).toBe(7);
  });

  it('fails on a missing dataset before any work, naming the key and the path', () => {
    const path = join(dir, 'missing.yaml');
    writeFileSync(path, `data:\n  train_files: ${join(dir, 'train.jsonl')}\n  val_files: [${join(dir, 'nope.jsonl')}]\n`);
    writeFileSync(join(dir, 'train.jsonl'), '{}\n');
    const error = thrown(() => loadConfigFile({ path }));
    expect(MasaError.hasCode(error, 'DATASET_NOT_FOUND')).toBe(true);
    expect((error as MasaError).message).toContain('data.val_files:');
    expect((error as MasaError).message).toContain('nope.jsonl does not exist');
    expect((error as MasaError).message).toContain('--set data.val_files=PATH');
  });

  it('reports an unreadable config file', () => {
    const error = thrown(() => loadConfigFile({ path: join(dir, 'absent.yaml') }));
    expect(MasaError.hasCode(error, 'FILE_NOT_FOUND')).toBe(true);
    expect((error as MasaError).message).toContain('absent.yaml');
  });

  it('reports config errors before checking paths', () => {
    const path = join(dir, 'typo.yaml');
    writeFileSync(path, 'data:\n  train_files: /does/not/exist.jsonl\n  train_batch_sise: 4\n');
    const error = thrown(() => loadConfigFile({ path }));
    expect(MasaError.hasCode(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as MasaError).message).toContain(`${path}:3: data.train_batch_sise: unknown key (did you mean train_batch_size?)`);
  });
});

describe('checkDatasetPaths', () => {
  it('resolves relative paths against baseDir and skips dataset names', () => {
    const config = resolveConfig({ overrides: ['data.train_files=["tiny-arith","rel/train.jsonl"]'] });
    const seen: string[] = [];
    checkDatasetPaths({
      config,
      baseDir: '/base',
      exists: (path) => {
        seen.push(path);
        return true;
      },
      isDatasetName: (name) => name === 'tiny-arith',
    });
    expect(seen).toEqual(['/base/rel/train.jsonl']);
    expect(() => checkDatasetPaths({ config, exists: () => false, baseDir: '/base' })).toThrow(/data\.train_files: tiny-arith does not exist/);
  });
});
