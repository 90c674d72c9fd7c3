import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunFolder } from './run-folder.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masa-run-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createRunFolder', () => {
  it('lays out the run folder contract', async () => {
    const run = createRunFolder({ dir: join(dir, 'run') });
    expect(existsSync(join(dir, 'run', 'checkpoints'))).toBe(true);
    await run.writeResolvedConfig('data:\n  train_files: x\n');
    expect(readFileSync(join(dir, 'run', 'config.resolved.yaml'), 'utf8')).toBe('data:\n  train_files: x\n');
    run.appendMetrics({ step: 1, 'critic/score/mean': 0.5 });
    run.appendMetrics({ step: 2, 'critic/score/mean': 0.75 });
    // Each append is visible immediately, one JSON object per line.
    expect(readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8')).toBe(
      '{"step":1,"critic/score/mean":0.5}\n{"step":2,"critic/score/mean":0.75}\n',
    );
    run.appendSamples([{ step: 1, text: 'a' }, { step: 2, text: 'b' }]);
    expect(await run.readSamples()).toEqual([{ step: 1, text: 'a' }, { step: 2, text: 'b' }]);
    // No temp files are left behind.
    expect((await readdir(join(dir, 'run'))).sort()).toEqual(['checkpoints', 'config.resolved.yaml', 'metrics.jsonl', 'samples.jsonl']);
  });

  it('skips a torn last line and truncates after a step for resume', async () => {
    const run = createRunFolder({ dir });
    for (let step = 1; step <= 4; step++) run.appendMetrics({ step, value: step * 10 });
    run.appendSamples([{ step: 3, text: 'c' }, { step: 4, text: 'd' }]);
    appendFileSync(join(dir, 'metrics.jsonl'), '{"step":5,"val');
    expect((await run.readMetrics()).map((r) => r.step)).toEqual([1, 2, 3, 4]);
    await run.truncateAfter(2);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('{"step":1,"value":10}\n{"step":2,"value":20}\n');
    expect(await run.readSamples()).toEqual([]);
    run.appendMetrics({ step: 3, value: 31 });
    expect((await run.readMetrics()).map((r) => r['value'])).toEqual([10, 20, 31]);
  });

  it('reads absent files as empty', async () => {
    const run = createRunFolder({ dir });
    expect(await run.readMetrics()).toEqual([]);
    await run.truncateAfter(0);
    expect(await run.readMetrics()).toEqual([]);
  });
});
