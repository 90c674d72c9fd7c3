import { describe, expect, it } from 'vitest';
import { compactCount, createProgressRenderer, formatDuration, formatStepLine } from './progress.js';
import type { JobMessage } from './train-job.js';

function sink(): { text: string; write(chunk: string): boolean } {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

const events: JobMessage[] = [
  { type: 'event', event: { type: 'run-start', algorithm: 'masa-efficient', startStep: 0, totalSteps: 2, runDir: '/r', resumedFrom: null, engine: 'e', backend: 'b' } },
  { type: 'event', event: { type: 'step-start', step: 1, epoch: 0, lr: 1 } },
  { type: 'step-summary', summary: { step: 1, accuracy: 0.5, calibrationMae: 0.1, gatedFraction: 0.25, tokensSaved: 1234, solutionTokens: 10 } },
  { type: 'event', event: { type: 'step-end', step: 1, metrics: { step: 1, 'critic/score/mean': 0.5, 'masa/meta_reward/mean': 0.25, 'masa/gated_frac': 0.25 } } },
  { type: 'event', event: { type: 'warning', step: 1, code: 'reward-error', message: 'boom' } },
];

describe('progress rendering', () => {
  it('formats counts, durations and the step line', () => {
    expect(compactCount(999)).toBe('999');
    expect(compactCount(1234)).toBe('1.2k');
    expect(compactCount(2_500_000)).toBe('2.5M');
    expect(formatDuration(12.4)).toBe('12s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(
      formatStepLine({ step: 3, totalSteps: 10, reward: 0.5, accuracy: 0.5, metaReward: undefined, gatedFraction: undefined, tokensSaved: 0, secondsPerStep: 2, etaSeconds: 14 }),
    ).toBe('step 3/10 · reward 0.500 · acc 50% · 2.0 s/step · ETA 14s');
  });

  it('plain mode: one line per step on stdout with the ETA from the step time, logs on stderr', async () => {
    const stdout = sink();
    const stderr = sink();
    let clock = 0;
    const renderer = await createProgressRenderer({ mode: 'plain', stdout, stderr, now: () => clock });
    renderer.onMessage(events[0] as JobMessage);
    renderer.onMessage(events[1] as JobMessage);
    clock = 4000; // step 1 took 4 s; one step left
    for (const message of events.slice(2)) renderer.onMessage(message);
    expect(stdout.text).toBe('step 1/2 · reward 0.500 · acc 50% · meta 0.250 · gated 25% · saved 1.2k tok · 4.0 s/step · ETA 4s\n');
    expect(stderr.text).toMatch(/^masa train: masa-efficient, steps 1..2/);
    expect(stderr.text).toContain('warning (step 1, reward-error): boom');
  });

  it('json mode: every message as one JSON line; quiet mode: warnings only', async () => {
    const stdout = sink();
    const stderr = sink();
    const json = await createProgressRenderer({ mode: 'json', stdout, stderr });
    for (const message of events) json.onMessage(message);
    const lines = stdout.text.trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    expect(lines.map((line) => line.type)).toEqual(['run-start', 'step-start', 'step-summary', 'step-end', 'warning']);
    const quietOut = sink();
    const quietErr = sink();
    const quiet = await createProgressRenderer({ mode: 'quiet', stdout: quietOut, stderr: quietErr });
    for (const message of events) quiet.onMessage(message);
    expect(quietOut.text).toBe('');
    expect(quietErr.text).toBe('warning (step 1, reward-error): boom\n');
  });
});
