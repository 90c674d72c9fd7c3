import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { MODEL, tempDir, toyDataset } from './__tests__/fixtures.js';
import { checkResultsFolder, openResultsStore } from './results-store.js';
import { resolveEvaluationConfig } from './run-evaluation.js';

const config = resolveEvaluationConfig({ datasets: [toyDataset('toy', 2)], outDir: 'unused', model: MODEL, n: 2 });

async function failure(promise: Promise<unknown>): Promise<MasaError> {
  const error = await promise.catch((caught: unknown) => caught);
  if (!MasaError.isInstance(error)) throw new Error(`expected a MasaError, got ${String(error)}`);
  return error;
}

describe('checkResultsFolder', () => {
  it('accepts a missing or empty folder and its own config', async () => {
    const dir = tempDir('check');
    expect(await checkResultsFolder({ dir: join(dir, 'new'), config })).toBeUndefined();
    expect(await checkResultsFolder({ dir, config })).toBeUndefined();
    await (await openResultsStore({ dir, config })).close();
    expect(await checkResultsFolder({ dir, config })).toBeUndefined();
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
  });

  it('refuses results without a config.json unless forced', async () => {
    const dir = tempDir('orphan');
    writeFileSync(join(dir, 'responses.jsonl'), '');
    const error = await failure(checkResultsFolder({ dir, config }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('holds responses or scores but no config.json');
    expect(await checkResultsFolder({ dir, config, forceConfig: true })).toMatchObject({ key: 'config.json' });
  });

  it('refuses an unreadable config.json', async () => {
    const dir = tempDir('badconfig');
    writeFileSync(join(dir, 'config.json'), '{ "formatVersion": ');
    expect((await failure(checkResultsFolder({ dir, config }))).code).toBe('CHECKPOINT_INVALID');
  });
});

describe('openResultsStore', () => {
  it('names the line of a corrupt record in the middle of a log and releases the lock', async () => {
    const dir = tempDir('corrupt');
    await (await openResultsStore({ dir, config })).close();
    const record = JSON.stringify({ dataset: 'toy', id: 'q0', prompt: [], promptTokens: null, seed: 1, maxNewTokens: 5, responses: ['a', 'b'], tokens: [1, 1], finishReasons: ['stop', 'stop'] });
    writeFileSync(join(dir, 'responses.jsonl'), `${record}\n{oops\n${record.replace('q0', 'q1')}\n`);
    const error = await failure(openResultsStore({ dir, config }));
    expect(error.code).toBe('CHECKPOINT_INVALID');
    expect(error.message).toMatch(/responses\.jsonl:2: not valid JSON .* and more lines follow it; delete that line \(or the whole folder .*\) or pass another --out/);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    writeFileSync(join(dir, 'responses.jsonl'), `${JSON.stringify({ dataset: 'toy', id: 'q0' })}\n`);
    expect((await failure(openResultsStore({ dir, config }))).message).toMatch(/responses\.jsonl:1: not a responses record/);
  });

  it('refuses an unwritable folder with FILE_WRITE_FAILED', async () => {
    const dir = tempDir('unwritable');
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect((await failure(openResultsStore({ dir: join(file, 'sub'), config }))).code).toBe('FILE_WRITE_FAILED');
  });
});
