import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { rolloutLogprobs } from './policy-update.js';

describe('rolloutLogprobs (old log-probs taken from the rollout)', () => {
  it('gives one log-prob per sampled token, a copy', () => {
    const record = { responseTokenIds: [4, 7, 1], samplingLogprobs: [-0.5, -1.25, 0] };
    const taken = rolloutLogprobs(record, 3);
    expect(taken).toEqual([-0.5, -1.25, 0]);
    expect(taken).not.toBe(record.samplingLogprobs);
  });

  it('refuses an engine that did not report them (a count that differs, NaN, a positive value), naming the key', () => {
    for (const samplingLogprobs of [[], [-0.5, -1], [-0.5, Number.NaN, -1], [-0.5, 0.25, -1]]) {
      let caught: unknown;
      try {
        rolloutLogprobs({ responseTokenIds: [4, 7, 1], samplingLogprobs }, 5);
      } catch (error: unknown) {
        caught = error;
      }
      expect(MasaError.hasCode(caught, 'ENGINE_FAILED')).toBe(true);
      expect((caught as MasaError).message).toContain('actor_rollout_ref.actor.recompute_old_log_prob');
      expect((caught as MasaError).message).toContain('step 5');
    }
  });
});
