import { describe, expect, it } from 'vitest';
import { computeAdvantages } from './advantages.js';
import { computeBatchMetrics, toVerlMetrics } from './batch-metrics.js';
import { computeGrpoLoss } from './grpo-loss.js';
import { broadcastToTokens } from './token-matrix.js';

describe('computeBatchMetrics', () => {
  // 4 sequences, seqLen 4: lengths 4 (truncated), 2, 1, 3
  const seqLen = 4;
  const responseMask = [1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0];
  const rewards = [1, 0, 1, 1];
  const uids = ['a', 'a', 'b', 'b'];
  const advantages = [0.5, -0.5, 0, 0];

  it('computes reward, advantage, length and zero-std statistics by hand', () => {
    const metrics = computeBatchMetrics({ rewards, uids, advantages, responseMask, seqLen });
    expect(metrics.sequences).toBe(4);
    expect(metrics.groups).toBe(2);
    expect(metrics.rewardMean).toBeCloseTo(3 / 4, 14);
    expect(metrics.rewardMax).toBe(1);
    expect(metrics.rewardMin).toBe(0);
    // population std of [1, 0, 1, 1]: sqrt((3 · (1/4)² + (3/4)²) / 4)
    expect(metrics.rewardStd).toBeCloseTo(Math.sqrt((3 * (1 / 4) ** 2 + (3 / 4) ** 2) / 4), 14);
    // advantages over response tokens: 4 × 0.5, 2 × −0.5, 1 × 0, 3 × 0 → mean (2 − 1) / 10
    expect(metrics.responseTokens).toBe(10);
    expect(metrics.advantageMean).toBeCloseTo((4 * 0.5 + 2 * -0.5) / 10, 14);
    expect(metrics.advantageMax).toBe(0.5);
    expect(metrics.advantageMin).toBe(-0.5);
    const mean = 0.1;
    const variance = (4 * (0.5 - mean) ** 2 + 2 * (-0.5 - mean) ** 2 + 4 * (0 - mean) ** 2) / 10;
    expect(metrics.advantageStd).toBeCloseTo(Math.sqrt(variance), 14);
    // group b is all-correct
    expect(metrics.fracRewardZeroStd).toBeCloseTo(1 / 2, 14);
    expect(metrics.responseLengthMean).toBeCloseTo((4 + 2 + 1 + 3) / 4, 14);
    expect(metrics.responseLengthMax).toBe(4);
    expect(metrics.responseLengthMin).toBe(1);
    expect(metrics.responseLengthClipRatio).toBeCloseTo(1 / 4, 14);
  });

  it('uses maxResponseLength for the clip ratio when given', () => {
    const metrics = computeBatchMetrics({ rewards, uids, advantages, responseMask, seqLen, maxResponseLength: 3 });
    expect(metrics.responseLengthClipRatio).toBeCloseTo(1 / 4, 14);
    expect(computeBatchMetrics({ rewards, uids, advantages, responseMask, seqLen, maxResponseLength: 8 }).responseLengthClipRatio).toBe(0);
  });

  it('agrees with the masked token statistics of the broadcast advantages', () => {
    const { advantages: computed } = computeAdvantages({ rewards, uids });
    const tokens = broadcastToTokens({ values: computed, responseMask, seqLen });
    const valid = Array.from(tokens).filter((_, i) => responseMask[i] === 1);
    const metrics = computeBatchMetrics({ rewards, uids, advantages: computed, responseMask, seqLen });
    expect(metrics.advantageMean).toBeCloseTo(valid.reduce((a, b) => a + b, 0) / valid.length, 14);
    expect(metrics.advantageMax).toBe(Math.max(...valid));
    expect(metrics.advantageMin).toBe(Math.min(...valid));
  });

  it('flattens into verl metric names', () => {
    const batch = computeBatchMetrics({ rewards, uids, advantages, responseMask, seqLen });
    const actor = computeGrpoLoss({
      logp: responseMask.map(() => -1),
      oldLogp: responseMask.map(() => -1),
      advantages: broadcastToTokens({ values: advantages, responseMask, seqLen }),
      responseMask,
      seqLen,
      refLogp: responseMask.map(() => -1),
      config: { useKlLoss: true },
    }).metrics;
    const flat = toVerlMetrics(batch, actor);
    expect(flat['critic/score/mean']).toBe(batch.rewardMean);
    expect(flat['critic/rewards/mean']).toBe(batch.rewardMean);
    expect(flat['critic/advantages/max']).toBe(0.5);
    expect(flat['response_length/clip_ratio']).toBe(batch.responseLengthClipRatio);
    expect(flat['critic/frac_reward_zero_std']).toBe(0.5);
    expect(flat['actor/pg_clipfrac']).toBe(0);
    expect(flat['actor/ppo_kl']).toBe(0);
    expect(flat['actor/kl_loss']).toBe(0);
    expect(flat['actor/kl_coef']).toBe(0.001);
    expect(flat['actor/entropy']).toBeUndefined();
    // on-policy (ρ = 1): pg_loss = −mean over tokens of A
    expect(flat['actor/pg_loss']).toBeCloseTo(-(4 * 0.5 + 2 * -0.5) / 10, 14);
    expect(Object.keys(toVerlMetrics())).toEqual([]);
  });
});
