/**
 * The small statistics the report needs, written out so that each can be
 * checked by hand: mean and spread over seeds, a paired t interval, the first
 * time a curve reaches a level (linear interpolation between measurements),
 * and a seeded percentile bootstrap of a speed-up.
 */
import { createRng } from '@masa-rl/core';

/** Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06,
  2.056, 2.052, 2.048, 2.045, 2.042,
];

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function sampleSd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1));
}

export interface Interval {
  mean: number;
  low: number;
  high: number;
  n: number;
}

/** Mean of `a[i] − b[i]` with a 95% t interval (pairs share a seed). `low`/`high` are NaN with one pair. */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`pairedDifference: ${a.length} and ${b.length} values; pass one per seed on each side`);
  const diffs = a.map((value, i) => value - (b[i] as number));
  const m = mean(diffs);
  if (diffs.length < 2) return { mean: m, low: Number.NaN, high: Number.NaN, n: diffs.length };
  const half = (T95[Math.min(diffs.length - 1, T95.length) - 1] as number) * (sampleSd(diffs) / Math.sqrt(diffs.length));
  return { mean: m, low: m - half, high: m + half, n: diffs.length };
}

/**
 * The first x at which `points` (ascending x) reach `target`, interpolating
 * linearly between the measurement below the target and the one at or above
 * it; `null` when no measurement reaches it.
 */
export function firstReach(points: ReadonlyArray<{ x: number; y: number }>, target: number): number | null {
  for (let i = 0; i < points.length; i++) {
    const point = points[i] as { x: number; y: number };
    if (point.y < target) continue;
    if (i === 0) return point.x;
    const before = points[i - 1] as { x: number; y: number };
    return before.x + ((target - before.y) / (point.y - before.y)) * (point.x - before.x);
  }
  return null;
}

/** `mean(baseline) / mean(method)` where `null` (never reached) counts as infinitely slow. */
export function speedup(baseline: ReadonlyArray<number | null>, method: ReadonlyArray<number | null>): number {
  const meanOrInf = (values: ReadonlyArray<number | null>): number => (values.some((value) => value === null) ? Number.POSITIVE_INFINITY : mean(values as number[]));
  const b = meanOrInf(baseline);
  const m = meanOrInf(method);
  if (m === Number.POSITIVE_INFINITY) return b === Number.POSITIVE_INFINITY ? Number.NaN : 0;
  if (m === 0) return b === 0 ? 1 : Number.POSITIVE_INFINITY;
  return b / m;
}

/** Percentile `q` (0..1) of sorted values, linear between order statistics. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  if (lower === upper || a === b) return a;
  return a + (position - lower) * (b - a);
}

/**
 * Speed-up of `method` over `baseline` with a 95% percentile bootstrap
 * interval. Runs are paired by seed (same data order, neighbours in time), so
 * each resample draws seed indices with replacement once and takes both sides
 * at those seeds; `resamples` times, from a seeded generator. Resamples whose
 * speed-up is undefined (neither side reached) are dropped and counted. With
 * few seeds the interval is rough (a handful of distinct resamples).
 */
export function bootstrapSpeedup(
  baseline: ReadonlyArray<number | null>,
  method: ReadonlyArray<number | null>,
  options: { seed: string; resamples?: number },
): { estimate: number; low: number; high: number; undefinedResamples: number; resamples: number } {
  if (baseline.length !== method.length || baseline.length === 0) {
    throw new RangeError(`bootstrapSpeedup: ${baseline.length} and ${method.length} values; pass one per seed on each side, paired`);
  }
  const { seed, resamples = 10_000 } = options;
  const rng = createRng(seed);
  const ratios: number[] = [];
  let undefinedResamples = 0;
  for (let r = 0; r < resamples; r++) {
    const picks = baseline.map(() => rng.int(0, baseline.length - 1));
    const ratio = speedup(
      picks.map((i) => baseline[i] as number | null),
      picks.map((i) => method[i] as number | null),
    );
    if (Number.isNaN(ratio)) undefinedResamples += 1;
    else ratios.push(ratio);
  }
  ratios.sort((a, b) => a - b);
  return { estimate: speedup(baseline, method), low: quantile(ratios, 0.025), high: quantile(ratios, 0.975), undefinedResamples, resamples };
}

/** precision, recall, F1 from counts; `null` where a denominator is 0. */
export function precisionRecall(counts: { tp: number; fp: number; fn: number }): { precision: number | null; recall: number | null; f1: number | null } {
  const precision = counts.tp + counts.fp === 0 ? null : counts.tp / (counts.tp + counts.fp);
  const recall = counts.tp + counts.fn === 0 ? null : counts.tp / (counts.tp + counts.fn);
  const f1 = precision === null || recall === null || precision + recall === 0 ? null : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}
