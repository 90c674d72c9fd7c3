import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dumpResolvedConfig, resolveConfig } from '@masa-rl/trainer';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeRun, tempDir } from './__tests__/fake-run.js';
import { META_STATS_FILE } from './meta-stats.js';
import { runTrainJob, type JobMessage } from './train-job.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** metrics.jsonl without wall-clock timings. */
function metricsOf(runDir: string): Array<Record<string, number>> {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(Object.entries(JSON.parse(line) as Record<string, number>).filter(([key]) => !key.startsWith('timing_s/'))));
}

const weightsOf = (runDir: string, step: number): string => readFileSync(join(runDir, 'checkpoints', `step-${step}`, 'weights', 'weights.bin')).toString('hex');
const types = (messages: JobMessage[]): string[] => messages.map((message) => (message.type === 'event' ? message.event.type : message.type));

describe('runTrainJob (in-process, simulated policy)', () => {
  it('trains, writes one meta-stats line per step and reports the end', async () => {
    const runDir = tempDir('job');
    dirs.push(runDir);
    const messages = await fakeRun({ runDir });
    const seen = types(messages);
    expect(seen.slice(0, 3)).toEqual(['loading', 'loading', 'run-start']);
    expect(seen.filter((type) => type === 'step-end')).toHaveLength(6);
    expect(seen.filter((type) => type === 'step-summary')).toHaveLength(6);
    expect(seen.at(-1)).toBe('done');
    const stats = readFileSync(join(runDir, META_STATS_FILE), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { step: number });
    expect(stats.map((line) => line.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readdirSync(join(runDir, 'checkpoints')).sort()).toEqual(['step-3', 'step-6']);
  });

  it('a stop request saves a checkpoint at the step boundary; resuming from it ends bit-identical to an uninterrupted run', async () => {
    const reference = tempDir('ref');
    dirs.push(reference);
    await fakeRun({ runDir: reference });

    let steps = 0;
    const stoppedDir = tempDir('stop');
    dirs.push(stoppedDir);
    const messages: JobMessage[] = await fakeRun({
      runDir: stoppedDir,
      stopRequested: () => {
        steps += 1;
        return steps > 4; // polled once per step: stop before step 5
      },
    });
    const stopMessage = messages.find((message) => message.type === 'stopped');
    expect(stopMessage).toMatchObject({ type: 'stopped', step: 4 });
    expect(messages.find((message) => message.type === 'stop-checkpoint')).toMatchObject({ checkpoint: { step: 4, saved: true } });
    expect(readdirSync(join(stoppedDir, 'checkpoints')).sort()).toEqual(['step-3', 'step-4']);
    expect(metricsOf(stoppedDir).map((line) => line['step'])).toEqual([0, 1, 2, 3, 4]);

    const resumed = await fakeRun({ runDir: stoppedDir, resume: true });
    expect(resumed.find((message) => message.type === 'event' && message.event.type === 'run-start')).toMatchObject({ event: { startStep: 4 } });
    expect(weightsOf(stoppedDir, 6)).toBe(weightsOf(reference, 6));
    expect(metricsOf(stoppedDir)).toEqual(metricsOf(reference));
    const stats = (dir: string): string[] => readFileSync(join(dir, META_STATS_FILE), 'utf8').trim().split('\n');
    expect(stats(stoppedDir)).toEqual(stats(reference));
  });

  it('a stop requested during step 1 lets it finish and saves it', async () => {
    const runDir = tempDir('early');
    dirs.push(runDir);
    let polls = 0;
    const messages = await fakeRun({ runDir, stopRequested: () => ++polls > 1 });
    expect(messages.find((message) => message.type === 'stopped')).toMatchObject({ step: 1 });
    expect(messages.find((message) => message.type === 'stop-checkpoint')).toMatchObject({ checkpoint: { step: 1, saved: true } });
  });

  it('a stop before the first step of a resumed run points at the checkpoint it resumed from', async () => {
    const runDir = tempDir('resume-stop');
    dirs.push(runDir);
    let polls = 0;
    await fakeRun({ runDir, stopRequested: () => ++polls > 3 }); // stops after step 3 (saved on schedule)
    const messages = await fakeRun({ runDir, resume: true, stopRequested: () => true });
    expect(messages.find((message) => message.type === 'stopped')).toMatchObject({ step: 3, checkpoint: join(runDir, 'checkpoints', 'step-3') });
    expect(messages.find((message) => message.type === 'stop-checkpoint')).toMatchObject({ checkpoint: { step: 3, saved: false } });
    expect(readdirSync(join(runDir, 'checkpoints')).sort()).toEqual(['step-3']);
  });

  it('reports a data failure inside the job as a failed message', async () => {
    const runDir = tempDir('bad');
    dirs.push(runDir);
    const data = join(runDir, 'train.jsonl');
    writeFileSync(data, '{"id":"a","question":"Compute 1 + 1."}\n');
    const config = resolveConfig({ overrides: [`data.train_files=${JSON.stringify(data)}`] });
    const messages: JobMessage[] = [];
    await runTrainJob({ configText: dumpResolvedConfig(config), runDir, backend: 'fake', cwd: runDir }, { emit: (message) => messages.push(message) });
    const failed = messages.at(-1);
    expect(failed?.type).toBe('failed');
    expect(failed).toMatchObject({ error: { code: 'DATASET_INVALID' } });
  });
});
