/**
 * `masa train` end to end with the real child process (the built
 * `dist/worker.js`, built by CI before the tests; skipped when absent) and the
 * simulated policy: progress lines, NDJSON, Ctrl-C (checkpoint then stop),
 * SIGKILL of the child, and resuming after both.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SMALL_RUN, tempDir } from './__tests__/fake-run.js';
import { runTrainCommand, type TrainCommandIo } from './train-command.js';

const workerPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'worker.js');
const built = existsSync(workerPath);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function capture(): { text: () => string; write: (chunk: string) => boolean } {
  let text = '';
  return { text: () => text, write: (chunk: string) => ((text += chunk), true) };
}

function io(extra: Partial<TrainCommandIo> & { onStdout?: (text: string) => void } = {}): TrainCommandIo & { out: ReturnType<typeof capture>; err: ReturnType<typeof capture>; signals: EventEmitter } {
  const out = capture();
  const err = capture();
  const signals = new EventEmitter();
  return {
    stdout: { write: (chunk: string) => (out.write(chunk), extra.onStdout?.(out.text()), true) },
    stderr: err,
    isTTY: false,
    signals,
    out,
    err,
    _internal: { workerPath, ...extra._internal },
  };
}

describe.skipIf(!built)('runTrainCommand (child process, simulated policy)', () => {
  it('renders one plain line per step and ends with the summary', async () => {
    const runDir = tempDir('cmd');
    dirs.push(runDir);
    const streams = io();
    const summary = await runTrainCommand({ backend: 'fake', runDir, set: SMALL_RUN }, streams);
    expect(summary.lastStep).toBe(6);
    const lines = streams.out.text().trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^step 1\/6 · reward \d\.\d{3} · acc \d+% · meta \d\.\d{3} · /);
    expect(lines[5]).toMatch(/^step 6\/6 .*gated \d+%/);
    expect(streams.err.text()).toMatch(/done: 6 steps/);
    expect(streams.err.text()).toMatch(/accuracy \(synthetic-arith-validation\) +\d/);
    expect(streams.err.text()).toContain(`view it:    pnpm masa ui`);
  });

  it('--json writes only NDJSON on stdout, ending with the summary', async () => {
    const runDir = tempDir('json');
    dirs.push(runDir);
    const streams = io();
    await runTrainCommand({ backend: 'fake', runDir, set: [...SMALL_RUN, 'trainer.total_training_steps=2'], json: true }, streams);
    const records = streams.out.text().trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    expect(records.map((record) => record.type)).toContain('run-start');
    expect(records.filter((record) => record.type === 'step-end')).toHaveLength(2);
    expect(records.at(-1)?.type).toBe('summary');
  });

  it('Ctrl-C checkpoints at the end of the step, exits with ABORTED and the resume command; --resume finishes the run', async () => {
    const runDir = tempDir('sigint');
    dirs.push(runDir);
    let sent = false;
    const streams = io({
      onStdout: (text) => {
        if (!sent && text.includes('step 1/6')) {
          sent = true;
          streams.signals.emit('SIGINT');
        }
      },
    });
    const error = await runTrainCommand({ backend: 'fake', runDir, set: SMALL_RUN }, streams).catch((caught: unknown) => caught);
    expect(MasaError.isInstance(error) && error.code).toBe('ABORTED');
    expect((error as Error).message).toMatch(/training stopped after step \d; resume from .*step-\d with: pnpm masa train --resume --run-dir /);
    expect(streams.err.text()).toMatch(/stopping at the end of this step/);
    // The stop lands at the first step boundary after the signal (steps are fast here, so which one varies).
    const stoppedAt = Number(/stopped after step (\d)/.exec((error as Error).message)?.[1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    expect(stoppedAt).toBeLessThan(6);
    expect(readdirSync(join(runDir, 'checkpoints'))).toContain(`step-${stoppedAt}`);
    const resumed = await runTrainCommand({ backend: 'fake', runDir, set: SMALL_RUN, resume: true }, io());
    expect(resumed.lastStep).toBe(6);
  });

  it('a SIGKILLed worker loses only the steps since the last checkpoint', async () => {
    const runDir = tempDir('kill');
    dirs.push(runDir);
    let control: { kill(): void } | undefined;
    const streams = io({
      onStdout: (text) => {
        if (text.includes('step 4/6')) control?.kill();
      },
      _internal: { workerPath, onStarted: (started) => (control = started) },
    });
    const error = await runTrainCommand({ backend: 'fake', runDir, set: SMALL_RUN }, streams).catch((caught: unknown) => caught);
    expect(MasaError.isInstance(error) && error.code).toBe('INTERNAL');
    expect((error as Error).message).toMatch(/ended unexpectedly \(signal SIGKILL\); resume from .*step-3 with/);
    const resumed = await runTrainCommand({ backend: 'fake', runDir, set: SMALL_RUN, resume: true }, io());
    expect(resumed.lastStep).toBe(6);
  });
});
