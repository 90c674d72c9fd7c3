import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { readEventFile } from './__tests__/tfrecord-reader.js';
import { createTensorBoardWriter } from './tensorboard-writer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'masa-tb-'));
  dirs.push(dir);
  return dir;
}

describe('createTensorBoardWriter', () => {
  it('writes file_version, SessionLog.START, then one summary per call, readable by an independent reader', () => {
    const dir = join(temp(), 'tensorboard');
    let clock = 1_790_000_000_500;
    const writer = createTensorBoardWriter({ dir, startStep: 0, hostname: 'box', now: () => clock });
    expect(writer.path).toBe(join(dir, 'events.out.tfevents.1790000000.box'));
    clock += 1_000;
    writer.addScalars(0, { step: 0, 'val-core/x/acc/mean@1': 0.25 });
    clock += 1_000;
    writer.addScalars(1, { step: 1, 'actor/pg_loss': -0.125, 'critic/score/mean': 0.5, note: 'skipped' as unknown as number });
    writer.addScalars(2, { step: 2 }); // nothing numeric besides step: no record
    writer.close();
    writer.close();

    const events = readEventFile(readFileSync(writer.path));
    expect(events).toHaveLength(4);
    expect(events[0]).toMatchObject({ step: 0, fileVersion: 'brain.Event:2', wallTime: 1_790_000_000.5 });
    expect(events[1]).toMatchObject({ step: 0, sessionStatus: 1 });
    expect(events[2]?.step).toBe(0);
    expect(events[2]?.wallTime).toBe(1_790_000_001.5);
    expect([...(events[2]?.scalars ?? [])]).toEqual([['val-core/x/acc/mean@1', 0.25]]);
    expect(events[3]?.step).toBe(1);
    expect([...(events[3]?.scalars ?? [])]).toEqual([
      ['actor/pg_loss', -0.125],
      ['critic/score/mean', 0.5],
    ]);
  });

  it('starts a new file per writer (suffix on a same-second clash) with START at its first step', () => {
    const dir = temp();
    const now = (): number => 1_000_000;
    const first = createTensorBoardWriter({ dir, hostname: 'h', now });
    first.addScalars(5, { a: 1 });
    first.close();
    const second = createTensorBoardWriter({ dir, startStep: 4, hostname: 'h', now });
    second.addScalars(4, { a: 2 });
    second.close();
    expect(readdirSync(dir).sort()).toEqual(['events.out.tfevents.1000.h', 'events.out.tfevents.1000.h.1']);
    const events = readEventFile(readFileSync(second.path));
    expect(events[1]).toMatchObject({ step: 4, sessionStatus: 1 });
    expect(events[2]?.scalars?.get('a')).toBe(2);
  });

  it('keeps the host name file-name safe', () => {
    const writer = createTensorBoardWriter({ dir: temp(), hostname: 'a/b c', now: () => 0 });
    writer.close();
    expect(writer.path.endsWith('events.out.tfevents.0.a_b_c')).toBe(true);
  });

  it('fails with FILE_WRITE_FAILED naming --no-tensorboard when the folder cannot be made', () => {
    const blocker = join(temp(), 'file');
    writeFileSync(blocker, 'not a folder');
    let caught: unknown;
    try {
      createTensorBoardWriter({ dir: join(blocker, 'tensorboard') });
    } catch (error: unknown) {
      caught = error;
    }
    expect(MasaError.isInstance(caught) && caught.code).toBe('FILE_WRITE_FAILED');
    expect((caught as Error).message).toMatch(/--no-tensorboard/);
  });
});

// Opt-in: TensorBoard's own reader. Point MASA_TENSORBOARD_PYTHON at a Python that imports `tensorboard`
// (for example a venv with `pip install tensorboard`).
const tensorboardPython = process.env['MASA_TENSORBOARD_PYTHON'];
const READ_WITH_TENSORBOARD = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
accumulator = EventAccumulator(sys.argv[1])
accumulator.Reload()
print(json.dumps({tag: [[e.step, e.value] for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}))
`;

describe.skipIf(tensorboardPython === undefined || tensorboardPython === '')('TensorBoard reads the files (MASA_TENSORBOARD_PYTHON)', () => {
  it('shows every scalar, and a resumed writer replaces the steps after the checkpoint', () => {
    const dir = temp();
    const first = createTensorBoardWriter({ dir, hostname: 'h', now: () => 1_000_000 });
    for (let step = 0; step <= 5; step += 1) first.addScalars(step, { 'actor/pg_loss': step, 'val-core/acc': step / 8 });
    first.close();
    // Resumed from the checkpoint of step 3: steps 4 and 5 are trained again.
    const resumed = createTensorBoardWriter({ dir, startStep: 4, hostname: 'h', now: () => 1_001_000 });
    for (let step = 4; step <= 6; step += 1) resumed.addScalars(step, { 'actor/pg_loss': 100 + step, 'val-core/acc': 0.5 });
    resumed.close();
    const output = execFileSync(tensorboardPython ?? 'python3', ['-c', READ_WITH_TENSORBOARD, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const scalars = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as Record<string, Array<[number, number]>>;
    expect(scalars['actor/pg_loss']).toEqual([[0, 0], [1, 1], [2, 2], [3, 3], [4, 104], [5, 105], [6, 106]]);
    expect(scalars['val-core/acc']).toEqual([[0, 0], [1, 0.125], [2, 0.25], [3, 0.375], [4, 0.5], [5, 0.5], [6, 0.5]]);
  });
});
