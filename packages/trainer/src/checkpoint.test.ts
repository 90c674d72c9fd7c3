import { mkdir, mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  findLatestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  verifyCheckpoint,
} from './checkpoint.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'masa-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// sha256("abc") from FIPS 180-2, appendix B.1.
const SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('saveCheckpoint / loadCheckpoint', () => {
  it('stores bytes, text, JSON and hook-written files under a manifest with sha256 of each', async () => {
    const saved = await saveCheckpoint({
      checkpointsDir: dir,
      step: 3,
      files: {
        'notes.txt': 'abc',
        'backend/optimizer.bin': new Uint8Array([1, 2, 3, 250]),
        'trainer-state.json': { json: { step: 3, rng: [1, 2, 3, 4] } },
      },
      write: async (temp) => {
        await mkdir(join(temp, 'weights'));
        await writeFile(join(temp, 'weights', 'model.bin'), new Uint8Array(1000).fill(7));
      },
    });
    expect(saved.path).toBe(join(dir, 'step-3'));
    expect(saved.manifest.files.map((f) => f.path)).toEqual(['backend/optimizer.bin', 'notes.txt', 'trainer-state.json', 'weights/model.bin']);
    expect(saved.manifest.files.find((f) => f.path === 'notes.txt')).toEqual({ path: 'notes.txt', bytes: 3, sha256: SHA256_ABC });
    expect(await readdir(dir)).toEqual(['step-3']);

    const loaded = await loadCheckpoint(saved.path);
    expect(loaded.step).toBe(3);
    expect(await loaded.readText('notes.txt')).toBe('abc');
    expect([...(await loaded.read('backend/optimizer.bin'))]).toEqual([1, 2, 3, 250]);
    expect(await loaded.readJson('trainer-state.json')).toEqual({ step: 3, rng: [1, 2, 3, 4] });
    expect(loaded.has('weights/model.bin')).toBe(true);
    await expect(loaded.read('absent.bin')).rejects.toThrow(/has no absent\.bin/);
  });

  it('rejects file names that escape the checkpoint', async () => {
    for (const name of ['../x', '/abs', 'a//b', 'manifest.json', './a']) {
      await expect(saveCheckpoint({ checkpointsDir: dir, step: 1, files: { [name]: 'x' } })).rejects.toThrow(/relative path/);
    }
  });

  it('replaces an existing checkpoint of the same step', async () => {
    await saveCheckpoint({ checkpointsDir: dir, step: 2, files: { 'a.txt': 'old' } });
    await saveCheckpoint({ checkpointsDir: dir, step: 2, files: { 'a.txt': 'new' } });
    expect(await (await loadCheckpoint(join(dir, 'step-2'))).readText('a.txt')).toBe('new');
    expect(await readdir(dir)).toEqual(['step-2']);
  });
});

describe('findLatestCheckpoint', () => {
  it('never picks up a folder cut short: temp folders, missing or corrupted manifests, changed files', async () => {
    await saveCheckpoint({ checkpointsDir: dir, step: 1, files: { 'w.bin': 'one' } });
    await saveCheckpoint({ checkpointsDir: dir, step: 2, files: { 'w.bin': 'two' } });
    // A kill after the manifest but before the rename leaves only a temp folder.
    await expect(
      saveCheckpoint({
        checkpointsDir: dir,
        step: 3,
        files: { 'w.bin': 'three' },
        _internal: {
          beforeRename: () => Promise.reject(new Error('killed')),
        },
      }),
    ).rejects.toThrow(/killed/);
    // A half-written temp folder without a manifest.
    await mkdir(join(dir, '.tmp-step-4-deadbeef'));
    await writeFile(join(dir, '.tmp-step-4-deadbeef', 'w.bin'), 'fo');
    // A step folder with a corrupted manifest.
    await mkdir(join(dir, 'step-5'));
    await writeFile(join(dir, 'step-5', 'w.bin'), 'five');
    await writeFile(join(dir, 'step-5', 'manifest.json'), '{"format":"masa-rl-checkpoint","version":1,"st');
    // A step folder without a manifest.
    await mkdir(join(dir, 'step-6'));
    await writeFile(join(dir, 'step-6', 'w.bin'), 'six');

    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([6, 5, 2, 1]);
    const latest = await findLatestCheckpoint(dir);
    expect(latest?.step).toBe(2);
    expect(latest?.skipped.map((s) => s.path)).toEqual([join(dir, 'step-6'), join(dir, 'step-5')]);
    expect(latest?.skipped[0]?.reason).toContain('no valid manifest.json');
  });

  it('detects content changed after the manifest (full) and size changes (quick)', async () => {
    await saveCheckpoint({ checkpointsDir: dir, step: 1, files: { 'w.bin': 'aaaa' } });
    await saveCheckpoint({ checkpointsDir: dir, step: 2, files: { 'w.bin': 'bbbb' } });
    await writeFile(join(dir, 'step-2', 'w.bin'), 'bbbc');
    expect((await verifyCheckpoint(join(dir, 'step-2'), 'quick')).ok).toBe(true);
    expect(await verifyCheckpoint(join(dir, 'step-2'))).toEqual({ ok: false, reason: 'w.bin does not match its sha256' });
    expect((await findLatestCheckpoint(dir))?.step).toBe(1);
    await writeFile(join(dir, 'step-2', 'w.bin'), 'bb');
    expect(await verifyCheckpoint(join(dir, 'step-2'), 'quick')).toEqual({ ok: false, reason: 'w.bin has 2 bytes, the manifest says 4' });
    await rm(join(dir, 'step-2', 'w.bin'));
    expect(await verifyCheckpoint(join(dir, 'step-2'), 'quick')).toEqual({ ok: false, reason: 'w.bin is missing' });
  });

  it('rejects extra files and a manifest of another step', async () => {
    await saveCheckpoint({ checkpointsDir: dir, step: 1, files: { 'w.bin': 'x' } });
    await writeFile(join(dir, 'step-1', 'stray.bin'), 'y');
    expect(await verifyCheckpoint(join(dir, 'step-1'))).toEqual({ ok: false, reason: 'stray.bin is not in the manifest' });
    await saveCheckpoint({ checkpointsDir: dir, step: 7, files: { 'w.bin': 'x' } });
    await mkdir(join(dir, 'step-8'));
    await writeFile(join(dir, 'step-8', 'w.bin'), 'x');
    await writeFile(join(dir, 'step-8', 'manifest.json'), await readFile(join(dir, 'step-7', 'manifest.json')));
    expect((await verifyCheckpoint(join(dir, 'step-8'))).ok).toBe(false);
    expect((await findLatestCheckpoint(dir))?.step).toBe(7);
  });

  it('returns undefined for an empty or absent folder, and load fails with CHECKPOINT_INVALID', async () => {
    expect(await findLatestCheckpoint(join(dir, 'nothing-here'))).toBeUndefined();
    await mkdir(join(dir, 'step-1'));
    expect(await findLatestCheckpoint(dir)).toBeUndefined();
    try {
      await loadCheckpoint(join(dir, 'step-1'));
      expect.unreachable();
    } catch (error: unknown) {
      expect(MasaError.hasCode(error, 'CHECKPOINT_INVALID')).toBe(true);
      expect((error as Error).message).toContain('trainer.resume_mode=disable');
    }
  });

  it('cleans stale temp folders on the next save', async () => {
    await mkdir(join(dir, '.tmp-step-9-abc'));
    await saveCheckpoint({ checkpointsDir: dir, step: 1, files: { 'w.bin': 'x' } });
    expect(await readdir(dir)).toEqual(['step-1']);
  });
});

describe('pruneCheckpoints', () => {
  it('keeps the newest K complete checkpoints', async () => {
    for (let step = 1; step <= 5; step++) {
      const saved = await saveCheckpoint({ checkpointsDir: dir, step, files: { 'w.bin': `${step}` }, keepLast: 2 });
      expect(saved.removed).toEqual(step > 2 ? [join(dir, `step-${step - 2}`)] : []);
    }
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([5, 4]);
    // An incomplete folder older than the kept ones goes too; a newer one stays for inspection.
    await mkdir(join(dir, 'step-3'));
    await mkdir(join(dir, 'step-9'));
    expect(await pruneCheckpoints({ checkpointsDir: dir, keepLast: 1 })).toEqual([join(dir, 'step-4'), join(dir, 'step-3')]);
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([9, 5]);
    await expect(pruneCheckpoints({ checkpointsDir: dir, keepLast: 0 })).rejects.toThrow(/max_actor_ckpt_to_keep/);
  });
});
