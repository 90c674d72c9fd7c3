import { MasaError } from '@masa-rl/core';
import { describeContext } from './input-checks.js';
import type { ErrorContext, NumberArrayLike } from './types.js';

/** Reward statistics of one uid group (all rollouts of one prompt). */
export interface GroupStat {
  /** The group's uid (verl `uid`; MASA meta groups carry the suffix `_meta_cog`). */
  uid: string;
  /** Row indices of the group's sequences, in batch order. */
  indices: readonly number[];
  /** Number of sequences. */
  size: number;
  /** Mean reward. */
  mean: number;
  /** Unbiased (n−1) standard deviation of the rewards; 0 for a group of size 1. */
  std: number;
  /** Smallest reward. */
  min: number;
  /** Largest reward. */
  max: number;
  /**
   * True when the group has at least 2 members and `std <= zeroStdTolerance`:
   * every rollout got (about) the same reward, so GRPO gives it no signal.
   * DAPO's dynamic sampling drops these groups. A group of size 1 is never
   * flagged (verl's DAPO filter keeps singletons; GRPO gives them advantage r).
   */
  zeroVariance: boolean;
}

/** Result of {@link computeGroupStats}. */
export interface GroupStatsResult {
  /** One entry per distinct uid, in order of first appearance. */
  groups: readonly GroupStat[];
  /** `groupOf[i]` is the index into `groups` of sequence i. */
  groupOf: Int32Array;
  /**
   * Fraction of groups flagged {@link GroupStat.zeroVariance} (the
   * `frac_reward_zero_std` metric). Equals the per-sequence fraction when all
   * groups have the same size. 0 when there are no groups.
   */
  fracRewardZeroStd: number;
}

/** Options of {@link computeGroupStats}. */
export interface GroupStatsOptions {
  /** One scalar reward per sequence (the sum of its token rewards). */
  rewards: NumberArrayLike;
  /** One group id per sequence; sequences with the same uid form a group. */
  uids: readonly string[];
  /**
   * A group whose unbiased reward std is at most this counts as zero-variance.
   * @default 1e-6
   */
  zeroStdTolerance?: number | undefined;
  /** Step / batch ids to put in error messages. */
  context?: ErrorContext | undefined;
}

/**
 * Groups sequences by uid and computes each group's mean, unbiased std
 * (`sqrt(Σ(r−μ)² / (n−1))`, two-pass in float64), min, max and a
 * zero-variance flag. Throws `ARGUMENT_INVALID` for an empty batch or
 * mismatched lengths and `NUMERIC_INSTABILITY` for a non-finite reward.
 */
export function computeGroupStats({
  rewards,
  uids,
  zeroStdTolerance = 1e-6,
  context,
}: GroupStatsOptions): GroupStatsResult {
  const count = rewards.length;
  if (uids.length !== count) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `rewards has ${count} entries but uids has ${uids.length}: pass one uid per sequence${describeContext(context)}`,
      { details: { rewards: count, uids: uids.length, ...context } },
    );
  }
  if (count === 0) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `no sequences: rewards and uids are empty, so there is no GRPO group to normalise${describeContext(context)}`,
      { details: { ...context } },
    );
  }
  if (!(zeroStdTolerance >= 0) || !Number.isFinite(zeroStdTolerance)) {
    throw new MasaError(
      'CONFIG_INVALID',
      `zeroStdTolerance must be a finite number >= 0, got ${String(zeroStdTolerance)}`,
      { details: { field: 'zeroStdTolerance', value: zeroStdTolerance } },
    );
  }
  const groupIndexByUid = new Map<string, number>();
  const members: number[][] = [];
  const groupUids: string[] = [];
  const groupOf = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const reward = rewards[i] as number;
    const uid = uids[i];
    if (typeof uid !== 'string') {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `uids[${i}] is ${String(uid)}; every sequence needs a string uid${describeContext(context)}`,
        { details: { index: i, ...context } },
      );
    }
    if (!Number.isFinite(reward)) {
      throw new MasaError(
        'NUMERIC_INSTABILITY',
        `rewards[${i}] (uid ${uid}) is ${String(reward)}; the reward function must return a finite number${describeContext(context)}`,
        { details: { index: i, uid, value: reward, ...context } },
      );
    }
    let group = groupIndexByUid.get(uid);
    if (group === undefined) {
      group = members.length;
      groupIndexByUid.set(uid, group);
      members.push([]);
      groupUids.push(uid);
    }
    (members[group] as number[]).push(i);
    groupOf[i] = group;
  }
  let zeroCount = 0;
  const groups: GroupStat[] = members.map((indices, group) => {
    const size = indices.length;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const i of indices) {
      const reward = rewards[i] as number;
      sum += reward;
      if (reward < min) min = reward;
      if (reward > max) max = reward;
    }
    const mean = sum / size;
    let squares = 0;
    for (const i of indices) {
      const deviation = (rewards[i] as number) - mean;
      squares += deviation * deviation;
    }
    const std = size > 1 ? Math.sqrt(squares / (size - 1)) : 0;
    const zeroVariance = size > 1 && std <= zeroStdTolerance;
    if (zeroVariance) zeroCount++;
    return { uid: groupUids[group] as string, indices, size, mean, std, min, max, zeroVariance };
  });
  return { groups, groupOf, fracRewardZeroStd: zeroCount / groups.length };
}
