/**
 * pass@k, the unbiased estimator of Chen et al. (2021) that MASA's
 * `calc_passk.py` computes with exact binomials:
 *
 *     pass@k = 1 − C(n − c, k) / C(n, k)
 *
 * for a problem with n samples of which c are correct. We use the product
 * form C(n−c, k)/C(n, k) = ∏_{j=n−c+1}^{n} (1 − k/j), which never forms a
 * binomial, so it stays finite and accurate for n in the thousands.
 */
import { MasaError } from '@masa-rl/core';

/**
 * pass@k of one problem with `n` samples and `c` correct ones.
 * Throws `ARGUMENT_INVALID` unless 0 ≤ c ≤ n and 1 ≤ k ≤ n (integers).
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new MasaError('ARGUMENT_INVALID', `pass@k needs integers 0 <= c <= n and 1 <= k <= n, got n=${n}, c=${c}, k=${k}`, {
      details: { n, c, k },
    });
  }
  if (n - c < k) return 1;
  let failAll = 1;
  for (let j = n - c + 1; j <= n; j++) failAll *= 1 - k / j;
  return 1 - failAll;
}

/** Mean and spread of one pass@k over a set of problems. */
export interface PassAtKStat {
  k: number;
  /** Mean over problems of the unbiased estimator. */
  mean: number;
  /**
   * Sample standard deviation (n−1) across runs: for k = 1, run j is the j-th
   * sample of every problem; for k > 1, run b is the block of samples
   * [b·k, (b+1)·k) of every problem, scored as "any correct". `null` when
   * there are fewer than two runs.
   */
  std: number | null;
  /** Number of runs the std is taken over. */
  runs: number;
}

function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance);
}

/**
 * pass@k over problems, each given as its list of per-sample scores (1 =
 * correct). Every problem must have at least k samples.
 */
export function passAtKStat(scores: readonly (readonly number[])[], k: number): PassAtKStat {
  if (scores.length === 0) throw new MasaError('ARGUMENT_INVALID', 'pass@k over zero problems');
  let total = 0;
  for (const sample of scores) {
    const c = sample.filter((score) => score > 0).length;
    total += passAtK(sample.length, c, k);
  }
  const minSamples = Math.min(...scores.map((sample) => sample.length));
  const runs = Math.floor(minSamples / k);
  const runValues: number[] = [];
  for (let run = 0; run < runs; run++) {
    let solved = 0;
    for (const sample of scores) {
      let any = false;
      for (let j = run * k; j < (run + 1) * k; j++) if ((sample[j] ?? 0) > 0) any = true;
      if (any) solved++;
    }
    runValues.push(solved / scores.length);
  }
  return { k, mean: total / scores.length, std: sampleStd(runValues), runs };
}
