/**
 * Token sampling over one row of logits (or log-probabilities: softmax is
 * shift-invariant, so either works): temperature, top-k, top-p, greedy.
 *
 * The order of operations follows vLLM and Hugging Face: scale by
 * 1/temperature, keep the top-k, then keep the nucleus of the renormalised
 * top-k distribution. Ranking is by (value descending, token id ascending),
 * so equal logits are broken deterministically towards the lower id.
 *
 * Arithmetic is float64 over float32 inputs. The returned `logprob` is the
 * log-probability of the drawn token under the distribution actually sampled
 * from (after temperature and filtering); `rawLogprob` is the model's
 * temperature-1, unfiltered log-softmax of the same token.
 */
import { MasaError, createRng, type Rng } from '@masa-rl/core';

/** How to turn a row of logits into a token. */
export interface SamplingParams {
  /**
   * Softmax temperature; 0 means greedy (argmax, lowest id on ties).
   * @default 1
   */
  temperature?: number;
  /**
   * Keep only the k highest logits; 0 disables it (as does k ≥ vocabulary size).
   * @default 0
   */
  topK?: number;
  /**
   * Nucleus mass in (0, 1]: keep the smallest set of most likely tokens whose probability sums to at least this; 1 disables it.
   * @default 1
   */
  topP?: number;
}

/** {@link SamplingParams} with defaults applied and values checked. */
export interface ResolvedSamplingParams {
  temperature: number;
  topK: number;
  topP: number;
}

/** One drawn token. */
export interface SampledToken {
  tokenId: number;
  /** Log-probability under the sampling distribution (after temperature, top-k, top-p); 0 for greedy. */
  logprob: number;
  /** The model's raw log-softmax (temperature 1, no filtering) of `tokenId`, when asked for. */
  rawLogprob?: number;
}

export interface SampleOptions {
  /** Also compute {@link SampledToken.rawLogprob} (one more pass over the row unless temperature is 1 and nothing is filtered). @default false */
  returnRawLogprob?: boolean;
}

/**
 * Checks sampling parameters and applies defaults. `where` names the source in
 * the error message (for example `request "q-7"`).
 */
export function resolveSamplingParams(params: SamplingParams, where = 'sampling parameters'): ResolvedSamplingParams {
  const { temperature = 1, topK = 0, topP = 1 } = params;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new MasaError('ARGUMENT_INVALID', `${where}: temperature must be a finite number ≥ 0 (0 = greedy), got ${temperature}`, {
      details: { field: 'temperature', value: temperature },
    });
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new MasaError('ARGUMENT_INVALID', `${where}: topK must be an integer ≥ 0 (0 = off), got ${topK}`, { details: { field: 'topK', value: topK } });
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new MasaError('ARGUMENT_INVALID', `${where}: topP must be in (0, 1] (1 = off), got ${topP}`, { details: { field: 'topP', value: topP } });
  }
  return { temperature, topK, topP };
}

/**
 * The random stream of one sample: seeded by the request's seed and forked by
 * the sample index, so a sample's tokens do not depend on which other requests
 * share its batch, nor on how many samples its request asked for.
 */
export function createSampleRng(seed: number, sampleIndex: number): Rng {
  return createRng(seed).fork(sampleIndex);
}

/** A sampler with scratch buffers sized for one vocabulary; reuse it across rows. */
export interface Sampler {
  /** Draws one token from `row` (logits or log-probs, length = vocabulary size). */
  sample(row: Float32Array, params: ResolvedSamplingParams, rng: Rng, options?: SampleOptions): SampledToken;
  /**
   * Draws one token from a row's top candidates, already selected and ranked (value descending, id ascending) —
   * what ONNX `TopK` (largest, sorted) returns. With `params.topK` ≤ the candidates given (or temperature 0), the
   * result is exactly `sample` on the full row: same token, same logprob, same random draws. No raw logprobs (they
   * need the whole row).
   */
  sampleRanked(values: Float32Array, ids: Int32Array, params: ResolvedSamplingParams, rng: Rng): SampledToken;
}

export interface CreateSamplerOptions {
  /** Vocabulary size the scratch buffers are allocated for; they grow if a longer row comes. @default 0 */
  vocabSize?: number;
  /**
   * Top-k below this uses a bounded heap (one pass; about k·ln(V/k) replacements on typical rows); at or above it,
   * quickselect (O(V) expected, but several passes). Measured on a 151,936-token row (bench/rollout/sampler.mjs):
   * heap 0.46 ms for k = 50 and 0.8 ms for k = 300; quickselect 2.5–3.7 ms for any k; they cross near k ≈ 2,000.
   * @default 1024
   */
  heapTopKLimit?: number;
}

/** Creates a {@link Sampler}. */
export function createSampler(options: CreateSamplerOptions = {}): Sampler {
  const { heapTopKLimit = 1024 } = options;
  let capacity = 0;
  let index = new Int32Array(0); // [V] candidate token ids
  let weight = new Float64Array(0); // [V] exp((x - max) / T), indexed by token id

  const ensure = (size: number): void => {
    if (size <= capacity) return;
    capacity = size;
    index = new Int32Array(size);
    weight = new Float64Array(size);
  };
  ensure(options.vocabSize ?? 0);
  /** Scratch row for sampleRanked: candidate values at their token ids (entries of other ids are never read). */
  let sparseRow = new Float32Array(0);
  const growSparse = (size: number): void => {
    const grown = new Float32Array(Math.max(size, 2 * sparseRow.length));
    grown.set(sparseRow);
    sparseRow = grown;
  };
  /** Sum of the kept weights before top-p, of the last draw (raw logprobs reuse it when nothing was filtered). */
  let keptTotal = 0;

  /**
   * The draw shared by both entry points: `index[0..count)` holds the kept tokens in their deterministic order and
   * `max` their largest value. Temperature, then top-p over the renormalised kept set, then one uniform number.
   */
  const drawFromKept = (row: Float32Array, keptCount: number, max: number, params: ResolvedSamplingParams, rng: Rng): SampledToken => {
    const inverseTemperature = 1 / params.temperature;
    let count = keptCount;
    let total = 0;
    for (let j = 0; j < count; j++) {
      const token = index[j]!; // hot loop: j < count ≤ vocab
      const w = Math.exp(((row[token] as number) - max) * inverseTemperature);
      weight[token] = w;
      total += w;
    }
    keptTotal = total;

    if (params.topP < 1) {
      count = selectNucleus(index, weight, count, params.topP * total);
      total = 0;
      for (let j = 0; j < count; j++) total += weight[index[j]!]!; // hot loop: j < count
    }

    // Draw: walk the kept set in its (deterministic) order; `total` was summed in the same order, so u < total always picks.
    const u = rng.next() * total;
    let accumulated = 0;
    let tokenId = index[count - 1]!;
    for (let j = 0; j < count; j++) {
      const token = index[j]!; // hot loop: j < count
      accumulated += weight[token]!;
      if (u < accumulated) {
        tokenId = token;
        break;
      }
    }
    return { tokenId, logprob: ((row[tokenId] as number) - max) * inverseTemperature - Math.log(total) };
  };

  return {
    sample(row, params, rng, sampleOptions = {}) {
      const vocab = row.length;
      if (vocab === 0) throw new MasaError('ARGUMENT_INVALID', 'sampler: the logits row is empty (vocabulary size 0)');
      ensure(vocab);
      const useTopK = params.temperature > 0 && params.topK > 0 && params.topK < vocab;
      let max = -Infinity;
      let argmax = -1;
      let count: number;
      if (useTopK) {
        // One pass: the top-k (which holds the maximum) and the NaN check.
        count = params.topK;
        if (count < heapTopKLimit) heapTopK(row, vocab, count, index);
        else quickselectTopK(row, vocab, count, index);
        // Rank order (value descending, id ascending), as ONNX TopK returns it: the draw below walks the kept set in
        // this order, so sampleRanked over a TopK output gives the same token for the same random number.
        rankInPlace(row, index, count);
        argmax = index[0]!;
        max = row[argmax]!;
      } else {
        // Pass 1: max, argmax (lowest id on ties), NaN / +Inf check.
        for (let i = 0; i < vocab; i++) {
          const x = row[i]!; // hot loop: i < vocab
          if (x > max) {
            max = x;
            argmax = i;
          } else if (x !== x) {
            throw nonFinite(i, x);
          }
        }
        count = vocab;
      }
      if (argmax < 0 || max === Infinity || max === -Infinity) {
        throw argmax >= 0 && max === Infinity
          ? nonFinite(argmax, max)
          : new MasaError('NUMERIC_INSTABILITY', 'sampler: every logit is -Infinity (all tokens masked); check the logits mask or the model output');
      }
      const rawLogprobOf = (token: number): number => (row[token] as number) - max - Math.log(sumExp(row, max));

      if (params.temperature === 0) {
        const result: SampledToken = { tokenId: argmax, logprob: 0 };
        if (sampleOptions.returnRawLogprob === true) result.rawLogprob = rawLogprobOf(argmax);
        return result;
      }

      if (!useTopK) for (let i = 0; i < vocab; i++) index[i] = i;
      const drawn = drawFromKept(row, count, max, params, rng);
      if (sampleOptions.returnRawLogprob === true) {
        const unfiltered = count === vocab && params.temperature === 1 ? keptTotal : -1;
        drawn.rawLogprob = unfiltered > 0 ? (row[drawn.tokenId] as number) - max - Math.log(unfiltered) : rawLogprobOf(drawn.tokenId);
      }
      return drawn;
    },

    sampleRanked(values, ids, params, rng) {
      const given = Math.min(values.length, ids.length);
      const needed = params.temperature === 0 ? 1 : params.topK;
      if (needed < 1 || needed > given) {
        throw new MasaError('ARGUMENT_INVALID', `sampler: sampleRanked needs topK in [1, ${given}] (the candidates given) or temperature 0, got topK ${params.topK}`);
      }
      // Scatter the candidates into a sparse row indexed by token id and run the shared draw on it.
      let top = needed;
      for (let j = 0; j < needed; j++) {
        const token = ids[j]!; // hot loop: j < needed ≤ given
        const x = values[j]!;
        if (x !== x || x === Infinity) throw nonFinite(token, x);
        if (!(token >= 0)) throw new MasaError('ARGUMENT_INVALID', `sampler: candidate token id ${token} is negative`);
        if (token + 1 > top) top = token + 1;
      }
      ensure(top);
      if (sparseRow.length < top) growSparse(top);
      for (let j = 0; j < needed; j++) {
        const token = ids[j]!; // hot loop: j < needed
        sparseRow[token] = values[j]!;
        index[j] = token;
      }
      const argmax = ids[0]!;
      const max = values[0]!;
      if (max === -Infinity) throw new MasaError('NUMERIC_INSTABILITY', 'sampler: every logit is -Infinity (all tokens masked); check the logits mask or the model output');
      if (params.temperature === 0) return { tokenId: argmax, logprob: 0 };
      return drawFromKept(sparseRow, needed, max, params, rng);
    },
  };
}

function nonFinite(position: number, value: number): MasaError {
  return new MasaError('NUMERIC_INSTABILITY', `sampler: logit ${position} is ${value}; the model produced a non-finite output (check the weights and inputs)`, {
    details: { position, value: String(value) },
  });
}

function sumExp(row: Float32Array, max: number): number {
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max); // hot loop: i < length
  return sum;
}

// The selection helpers below are hot loops over typed arrays; every index is in range by construction
// (ids < vocab, heap positions < k, partition bounds inside [0, count)), hence the non-null assertions.

/** Does token a rank before token b (higher value, then lower id)? */
const ranksBefore = (va: number, a: number, vb: number, b: number): boolean => va > vb || (va === vb && a < b);

/** Sorts `ids[0..count)` into rank order (insertion sort for a small top-k, a comparison sort above). */
function rankInPlace(row: Float32Array, ids: Int32Array, count: number): void {
  if (count > 64) {
    ids.subarray(0, count).sort((a, b) => (ranksBefore(row[a]!, a, row[b]!, b) ? -1 : 1));
    return;
  }
  for (let i = 1; i < count; i++) {
    const id = ids[i]!;
    const value = row[id]!;
    let j = i - 1;
    while (j >= 0 && ranksBefore(value, id, row[ids[j]!]!, ids[j]!)) {
      ids[j + 1] = ids[j]!;
      j--;
    }
    ids[j + 1] = id;
  }
}

/**
 * Top-k by a bounded min-heap (worst kept token at the root): one pass over the
 * row; most tokens cost one comparison with the root. Writes the k kept ids to
 * `out[0..k)`.
 */
function heapTopK(row: Float32Array, vocab: number, k: number, out: Int32Array): void {
  for (let i = 0; i < k; i++) {
    if (row[i]! !== row[i]!) throw nonFinite(i, row[i]!);
    out[i] = i;
    siftUp(row, out, i);
  }
  let threshold = row[out[0]!]!; // value of the worst kept token (the root)
  for (let i = k; i < vocab; i++) {
    // i > every id seen so far, so it ranks before the root only with a strictly larger value.
    const x = row[i]!;
    if (x > threshold) {
      out[0] = i;
      siftDown(row, out, k);
      threshold = row[out[0]!]!;
    } else if (x !== x) {
      throw nonFinite(i, x);
    }
  }
}

/** Heap order: a parent ranks *after* its children (it is the worst). */
function siftUp(row: Float32Array, heap: Int32Array, position: number): void {
  let child = position;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    const c = heap[child]!;
    const p = heap[parent]!;
    if (!ranksBefore(row[p]!, p, row[c]!, c)) break;
    heap[child] = p;
    heap[parent] = c;
    child = parent;
  }
}

function siftDown(row: Float32Array, heap: Int32Array, size: number): void {
  let parent = 0;
  for (;;) {
    const left = 2 * parent + 1;
    if (left >= size) return;
    let worst = left;
    const right = left + 1;
    if (right < size && ranksBefore(row[heap[left]!]!, heap[left]!, row[heap[right]!]!, heap[right]!)) worst = right;
    const p = heap[parent]!;
    const w = heap[worst]!;
    if (!ranksBefore(row[p]!, p, row[w]!, w)) return;
    heap[parent] = w;
    heap[worst] = p;
    parent = worst;
  }
}

/** Top-k by quickselect (median-of-three pivots, Lomuto partition); writes the k kept ids to `out[0..k)`. */
function quickselectTopK(row: Float32Array, vocab: number, k: number, out: Int32Array): void {
  for (let i = 0; i < vocab; i++) {
    if (row[i]! !== row[i]!) throw nonFinite(i, row[i]!);
    out[i] = i;
  }
  let lo = 0;
  let hi = vocab; // exclusive
  while (hi - lo > 1) {
    const position = partition(out, lo, hi, (a, b) => ranksBefore(row[a]!, a, row[b]!, b), null);
    if (position === k || position + 1 === k) return;
    if (position > k) hi = position;
    else lo = position + 1;
  }
}

/**
 * Partitions `ids[lo..hi)` around a median-of-three pivot so that ids ranking
 * before it come first. Returns the pivot's final position. When `mass` is
 * given, also stores the summed weight of the ids before the pivot in
 * `mass.before`.
 */
function partition(
  ids: Int32Array,
  lo: number,
  hi: number,
  before: (a: number, b: number) => boolean,
  mass: { weight: Float64Array; before: number } | null,
): number {
  const last = hi - 1;
  const mid = lo + ((hi - lo) >> 1);
  // Median of three (by rank) moved to `last`.
  const a = ids[lo]!;
  const b = ids[mid]!;
  const c = ids[last]!;
  let pivotAt: number;
  if (before(a, b)) pivotAt = before(b, c) ? mid : before(a, c) ? last : lo;
  else pivotAt = before(a, c) ? lo : before(b, c) ? last : mid;
  const pivot = ids[pivotAt]!;
  ids[pivotAt] = ids[last]!;
  ids[last] = pivot;
  let store = lo;
  let sum = 0;
  for (let i = lo; i < last; i++) {
    const id = ids[i]!; // hot loop: lo ≤ i < last
    if (before(id, pivot)) {
      ids[i] = ids[store]!;
      ids[store] = id;
      store++;
      if (mass !== null) sum += mass.weight[id]!;
    }
  }
  ids[last] = ids[store]!;
  ids[store] = pivot;
  if (mass !== null) mass.before = sum;
  return store;
}

/**
 * Nucleus by quickselect on probability mass: reorders `ids[0..count)` so that
 * the smallest prefix (in rank order: weight descending, id ascending) whose
 * weight reaches `target` comes first, and returns its length. Expected O(count).
 */
function selectNucleus(ids: Int32Array, weight: Float64Array, count: number, target: number): number {
  const before = (a: number, b: number): boolean => ranksBefore(weight[a]!, a, weight[b]!, b);
  const mass = { weight, before: 0 };
  let lo = 0;
  let hi = count;
  let remaining = target;
  while (hi > lo) {
    if (hi - lo === 1) return lo + 1; // the one id left completes the nucleus (remaining > 0)
    const position = partition(ids, lo, hi, before, mass);
    if (mass.before >= remaining) {
      hi = position;
    } else {
      remaining -= mass.before + weight[ids[position]!]!;
      if (remaining <= 0) return position + 1;
      lo = position + 1;
    }
  }
  // Round-off left the target unreached: keep everything up to here (at least one id).
  return Math.max(lo, 1);
}
