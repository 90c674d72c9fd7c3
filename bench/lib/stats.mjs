// Summary statistics for repeated benchmark runs: medians with their spread.
// Pure functions over arrays of numbers; no I/O.

/**
 * The q-quantile (0 ≤ q ≤ 1) of a sorted array, interpolating linearly between
 * the two nearest ranks (the "type 7" definition R and NumPy use by default).
 * @param {readonly number[]} sorted ascending, at least one value
 * @param {number} q
 */
export function quantileSorted(sorted, q) {
  if (sorted.length === 0) throw new RangeError('quantileSorted: no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantileSorted: q must be in [0, 1], got ${q}`);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = /** @type {number} */ (sorted[lower]);
  const high = /** @type {number} */ (sorted[upper]);
  return low + (high - low) * (position - lower);
}

/**
 * The median (the mean of the two middle values for an even count).
 * @param {readonly number[]} values
 */
export function median(values) {
  return quantileSorted(sortedFinite(values), 0.5);
}

/** @param {readonly number[]} values */
function sortedFinite(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) throw new RangeError('no finite values to summarise');
  return sorted;
}

/**
 * @typedef {object} Summary
 * @property {number} n how many finite values
 * @property {number} median
 * @property {number} min
 * @property {number} max
 * @property {number} q1 25th percentile
 * @property {number} q3 75th percentile
 * @property {number} relativeSpread (max − min) / median; 0 for one value
 */

/**
 * Median, min/max and quartiles of the finite values (NaN and ±Infinity are
 * left out: a failed run is reported separately, never averaged in).
 * @param {readonly number[]} values
 * @returns {Summary}
 */
export function summarize(values) {
  const sorted = sortedFinite(values);
  const mid = quantileSorted(sorted, 0.5);
  const min = /** @type {number} */ (sorted[0]);
  const max = /** @type {number} */ (sorted[sorted.length - 1]);
  return {
    n: sorted.length,
    median: mid,
    min,
    max,
    q1: quantileSorted(sorted, 0.25),
    q3: quantileSorted(sorted, 0.75),
    relativeSpread: mid === 0 ? 0 : (max - min) / Math.abs(mid),
  };
}
