import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { createLrSchedule, createLrScheduleFromConfig } from './lr-schedule.js';

describe('createLrSchedule', () => {
  it('warms up linearly then stays constant (step s uses min(s/w, 1))', () => {
    const schedule = createLrSchedule({ lr: 1e-6, warmupSteps: 20, totalSteps: 314 });
    expect(schedule.lrAt(1)).toBeCloseTo(1e-6 / 20, 15);
    expect(schedule.lrAt(10)).toBeCloseTo(0.5e-6, 15);
    expect(schedule.lrAt(19)).toBeCloseTo((19 / 20) * 1e-6, 15);
    expect(schedule.lrAt(20)).toBe(1e-6);
    expect(schedule.lrAt(314)).toBe(1e-6);
  });

  it('reproduces verl\'s first-step lr = 0 behind the parity flag', () => {
    const schedule = createLrSchedule({ lr: 1e-6, warmupSteps: 20, totalSteps: 314, zeroLrFirstStep: true });
    expect(schedule.lrAt(1)).toBe(0);
    expect(schedule.lrAt(2)).toBeCloseTo(1e-6 / 20, 15);
    expect(schedule.lrAt(20)).toBeCloseTo((19 / 20) * 1e-6, 15);
    expect(schedule.lrAt(21)).toBe(1e-6);
  });

  it('without warm-up every step uses the full rate (or the quirk has nothing to zero)', () => {
    const schedule = createLrSchedule({ lr: 3e-4, totalSteps: 5 });
    expect([1, 2, 5].map((s) => schedule.lrAt(s))).toEqual([3e-4, 3e-4, 3e-4]);
    expect(createLrSchedule({ lr: 3e-4, totalSteps: 5, zeroLrFirstStep: true }).lrAt(1)).toBe(3e-4);
  });

  it('decays along a half cosine to the floor', () => {
    // w = 2, T = 10, m = 0.1: index i ≥ 2 has p = (i − 2) / 8.
    const schedule = createLrSchedule({ lr: 1, warmupSteps: 2, totalSteps: 10, style: 'cosine', minLrRatio: 0.1 });
    expect(schedule.lrAt(1)).toBeCloseTo(0.5, 12);
    expect(schedule.lrAt(2)).toBeCloseTo(1, 12); // p = 0
    expect(schedule.lrAt(6)).toBeCloseTo(0.1 + 0.9 * 0.5, 12); // p = 1/2: cos = 0
    expect(schedule.lrAt(4)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2), 12); // p = 1/4
    expect(schedule.lrAt(10)).toBeCloseTo(0.1, 12); // p = 1
    expect(schedule.lrAt(12)).toBeCloseTo(0.1, 12); // beyond the end: clamped
    const monotone = Array.from({ length: 8 }, (_, i) => schedule.lrAt(i + 2));
    for (let i = 1; i < monotone.length; i++) expect(monotone[i]!).toBeLessThan(monotone[i - 1]!);
  });

  it('rejects bad arguments', () => {
    expect(() => createLrSchedule({ lr: Number.NaN, totalSteps: 1 })).toThrow(/learning rate/);
    expect(() => createLrSchedule({ lr: 1, totalSteps: 0 })).toThrow(/total training steps/);
    expect(() => createLrSchedule({ lr: 1, warmupSteps: 1.5, totalSteps: 3 })).toThrow(/warm-up/);
    expect(() => createLrSchedule({ lr: 1, totalSteps: 3 }).lrAt(0)).toThrow(RangeError);
  });
});

describe('createLrScheduleFromConfig', () => {
  it('uses the warm-up ratio when lr_warmup_steps is -1', () => {
    const config = resolveConfig({
      overrides: [
        'data.train_files=x',
        'actor_rollout_ref.actor.optim.lr=2e-5',
        'actor_rollout_ref.actor.optim.lr_warmup_steps=-1',
        'actor_rollout_ref.actor.optim.lr_warmup_steps_ratio=0.25',
      ],
    });
    const schedule = createLrScheduleFromConfig(config, 10);
    expect(schedule.warmupSteps).toBe(2); // floor(0.25 × 10)
    expect(schedule.lrAt(1)).toBeCloseTo(1e-5, 15);
    expect(schedule.lrAt(3)).toBe(2e-5);
  });
});
