import { MasaError, createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { createSampleRng, createSampler, resolveSamplingParams, type ResolvedSamplingParams } from './sampling.js';

/**
 * Reference distribution by the definition, in float64 with full sorts:
 * softmax(x / T); keep the top-k by (logit desc, id asc); renormalise; sort by
 * (probability desc, id asc) and keep the shortest prefix whose cumulative sum
 * reaches p; renormalise.
 */
function referenceDistribution(logits: readonly number[], params: ResolvedSamplingParams): Map<number, number> {
  const ids = logits.map((_, id) => id);
  ids.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
  let kept = params.topK > 0 ? ids.slice(0, params.topK) : ids;
  const max = Math.max(...logits);
  const weights = new Map(kept.map((id) => [id, Math.exp(((logits[id] as number) - max) / params.temperature)]));
  let total = [...weights.values()].reduce((a, b) => a + b, 0);
  if (params.topP < 1) {
    kept = [...kept].sort((a, b) => (weights.get(b) as number) - (weights.get(a) as number) || a - b);
    let cumulative = 0;
    const nucleus: number[] = [];
    for (const id of kept) {
      nucleus.push(id);
      cumulative += (weights.get(id) as number) / total;
      if (cumulative >= params.topP) break;
    }
    kept = nucleus;
    total = kept.reduce((sum, id) => sum + (weights.get(id) as number), 0);
  }
  return new Map(kept.map((id) => [id, (weights.get(id) as number) / total]));
}

/** Upper 0.1% points of the chi-square distribution, df = 1…9 (standard tables). */
const CHI_SQUARE_999 = [10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877];

const LOGITS = [2.0, 1.5, 1.5, 0.3, -1.0, 0.8, 0.0, -0.5, 3.0, 1.0];

describe('sampling: empirical frequencies match the definition (chi-square, 40k draws, α = 0.001)', () => {
  const cases: [string, ResolvedSamplingParams][] = [
    ['temperature 1', { temperature: 1, topK: 0, topP: 1 }],
    ['temperature 0.6', { temperature: 0.6, topK: 0, topP: 1 }],
    ['temperature 1.7', { temperature: 1.7, topK: 0, topP: 1 }],
    ['top-k 3 (tie at the boundary: ids 1 and 2 share 1.5)', { temperature: 1, topK: 3, topP: 1 }],
    ['top-k 4', { temperature: 0.8, topK: 4, topP: 1 }],
    ['top-p 0.8', { temperature: 1, topK: 0, topP: 0.8 }],
    ['top-p 0.5 at temperature 1.3', { temperature: 1.3, topK: 0, topP: 0.5 }],
    ['top-k 6 then top-p 0.9', { temperature: 1.2, topK: 6, topP: 0.9 }],
  ];
  for (const [label, params] of cases) {
    it(label, () => {
      const reference = referenceDistribution(LOGITS, params);
      const sampler = createSampler({ vocabSize: LOGITS.length });
      const row = Float32Array.from(LOGITS);
      const rng = createRng(`chi:${label}`);
      const draws = 40_000;
      const counts = new Map<number, number>();
      const logprobs = new Map<number, number>();
      for (let i = 0; i < draws; i++) {
        const { tokenId, logprob } = sampler.sample(row, params, rng);
        counts.set(tokenId, (counts.get(tokenId) ?? 0) + 1);
        logprobs.set(tokenId, logprob);
      }
      for (const [tokenId, logprob] of logprobs) {
        const p = reference.get(tokenId);
        expect(p, `token ${tokenId} is outside the kept set`).toBeDefined();
        expect(logprob).toBeCloseTo(Math.log(p as number), 6); // float32 logits vs float64 reference
      }
      let chi = 0;
      for (const [id, p] of reference) chi += ((counts.get(id) ?? 0) - draws * p) ** 2 / (draws * p);
      const df = reference.size - 1;
      if (df === 0) expect(counts.size).toBe(1);
      else expect(chi).toBeLessThan(CHI_SQUARE_999[df - 1] as number);
    });
  }

  it('top-k keeps the lower id on a tie at the boundary', () => {
    const reference = referenceDistribution(LOGITS, { temperature: 1, topK: 2, topP: 1 });
    expect([...reference.keys()].sort()).toEqual([0, 8]); // 3.0, 2.0
    const tie = referenceDistribution([1, 1, 1, 0], { temperature: 1, topK: 2, topP: 1 });
    expect([...tie.keys()]).toEqual([0, 1]);
    const sampler = createSampler();
    const rng = createRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(sampler.sample(Float32Array.from([1, 1, 1, 0]), { temperature: 1, topK: 2, topP: 1 }, rng).tokenId);
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('top-p keeps the smallest prefix reaching p; equal probabilities are ranked by id', () => {
    const sampler = createSampler();
    const rng = createRng(2);
    const seen = new Set<number>();
    // Four equal tokens: 0.25 + 0.25 reaches 0.5 exactly, so the nucleus is {0, 1}.
    for (let i = 0; i < 200; i++) {
      const drawn = sampler.sample(Float32Array.from([0, 0, 0, 0]), { temperature: 1, topK: 0, topP: 0.5 }, rng);
      seen.add(drawn.tokenId);
      expect(drawn.logprob).toBeCloseTo(Math.log(0.5), 12);
    }
    expect([...seen].sort()).toEqual([0, 1]);
    // A dominant token alone reaches p: the nucleus is that token and its logprob is 0.
    const single = sampler.sample(Float32Array.from([0, 10, 0]), { temperature: 1, topK: 0, topP: 0.9 }, rng);
    expect(single).toEqual({ tokenId: 1, logprob: 0 });
  });
});

describe('sampling: large vocabularies (heap and quickselect top-k, quickselect nucleus) against full sorts', () => {
  const vocab = 3000;
  const rng = createRng('big');
  // Logits quantised to 1/8 so that many ties exist, plus a few masked tokens.
  const logits = Array.from({ length: vocab }, (_, id) => (id % 97 === 5 ? -Infinity : Math.round(rng.normal() * 24) / 8));
  const row = Float32Array.from(logits);
  const settings: ResolvedSamplingParams[] = [
    { temperature: 1, topK: 1, topP: 1 },
    { temperature: 0.9, topK: 17, topP: 1 },
    { temperature: 1, topK: 255, topP: 1 },
    { temperature: 1, topK: 256, topP: 1 },
    { temperature: 1.1, topK: 1500, topP: 1 },
    { temperature: 1, topK: 2999, topP: 1 },
    { temperature: 1, topK: 0, topP: 0.3 },
    { temperature: 0.7, topK: 0, topP: 0.95 },
    { temperature: 1, topK: 400, topP: 0.6 },
    { temperature: 1, topK: 20, topP: 0.5 },
  ];
  for (const params of settings) {
    it(`T=${params.temperature} k=${params.topK} p=${params.topP}`, () => {
      const reference = referenceDistribution(logits, params);
      for (const heapTopKLimit of [2, 256, 100_000]) {
        const sampler = createSampler({ vocabSize: vocab, heapTopKLimit });
        const draws = createRng(`draws:${heapTopKLimit}`);
        for (let i = 0; i < 300; i++) {
          const { tokenId, logprob, rawLogprob } = sampler.sample(row, params, draws, { returnRawLogprob: true });
          const p = reference.get(tokenId);
          expect(p, `token ${tokenId}`).toBeDefined();
          // The logprob depends on the kept set's total mass, so it checks the set too.
          expect(logprob).toBeCloseTo(Math.log(p as number), 9);
          expect(rawLogprob).toBeCloseTo(referenceLogSoftmax(logits, tokenId), 9);
        }
      }
    });
  }
});

function referenceLogSoftmax(logits: readonly number[], id: number): number {
  const max = Math.max(...logits);
  const sum = logits.reduce((total, x) => total + Math.exp(x - max), 0);
  return (logits[id] as number) - max - Math.log(sum);
}

describe('sampling: greedy, raw logprobs, errors, seeds', () => {
  it('greedy is the argmax (lowest id on ties) with sampling logprob 0 and the raw log-softmax', () => {
    const sampler = createSampler();
    const rng = createRng(0);
    const before = rng.getState();
    const greedy = sampler.sample(Float32Array.from([0.5, 3, -2, 3]), resolveSamplingParams({ temperature: 0 }), rng, { returnRawLogprob: true });
    expect(greedy.tokenId).toBe(1);
    expect(greedy.logprob).toBe(0);
    expect(greedy.rawLogprob).toBeCloseTo(referenceLogSoftmax([0.5, 3, -2, 3], 1), 12);
    expect(rng.getState()).toEqual(before); // greedy draws no randomness
    const random = createRng(3);
    for (let trial = 0; trial < 50; trial++) {
      const logits = Array.from({ length: 64 }, () => random.normal());
      const expected = logits.indexOf(Math.max(...logits));
      expect(sampler.sample(Float32Array.from(logits), { temperature: 0, topK: 5, topP: 0.3 }, rng).tokenId).toBe(expected);
    }
  });

  it('raw logprob at temperature 1 without filtering reuses the sum and agrees with the float64 reference', () => {
    const sampler = createSampler();
    const drawn = sampler.sample(Float32Array.from(LOGITS), { temperature: 1, topK: 0, topP: 1 }, createRng(9), { returnRawLogprob: true });
    expect(drawn.rawLogprob).toBeCloseTo(referenceLogSoftmax(LOGITS, drawn.tokenId), 6);
    expect(drawn.logprob).toBeCloseTo(drawn.rawLogprob as number, 12);
  });

  it('never samples a masked (-Infinity) token', () => {
    const sampler = createSampler();
    const rng = createRng(4);
    for (let i = 0; i < 500; i++) {
      const { tokenId } = sampler.sample(Float32Array.from([-Infinity, 0, -Infinity, 0.2]), { temperature: 2, topK: 0, topP: 1 }, rng);
      expect([1, 3]).toContain(tokenId);
    }
  });

  it('rejects NaN, +Infinity, all-masked rows and bad parameters with codes and field names', () => {
    const sampler = createSampler();
    const params = resolveSamplingParams({});
    const rng = createRng(0);
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error: unknown) {
        return MasaError.isInstance(error) ? `${error.code}: ${error.message}` : 'not a MasaError';
      }
      return undefined;
    };
    expect(code(() => sampler.sample(Float32Array.from([0, Number.NaN]), params, rng))).toMatch(/^NUMERIC_INSTABILITY: sampler: logit 1 is NaN/);
    expect(code(() => sampler.sample(Float32Array.from([0, Infinity]), params, rng))).toMatch(/^NUMERIC_INSTABILITY: sampler: logit 1 is Infinity/);
    expect(code(() => sampler.sample(Float32Array.from([-Infinity, -Infinity]), params, rng))).toMatch(/^NUMERIC_INSTABILITY: .*all tokens masked/);
    // The top-k paths (heap, quickselect) find NaN in the same pass.
    const nanRow = Float32Array.from([0.5, 1, 2, Number.NaN, 0]);
    expect(code(() => sampler.sample(nanRow, { temperature: 1, topK: 2, topP: 1 }, rng))).toMatch(/^NUMERIC_INSTABILITY: sampler: logit 3 is NaN/);
    expect(code(() => createSampler({ heapTopKLimit: 1 }).sample(nanRow, { temperature: 1, topK: 2, topP: 1 }, rng))).toMatch(/logit 3 is NaN/);
    expect(code(() => sampler.sample(Float32Array.from([Number.NaN, 1, 2]), { temperature: 1, topK: 2, topP: 1 }, rng))).toMatch(/logit 0 is NaN/);
    expect(code(() => sampler.sample(Float32Array.from([0, Infinity, 1]), { temperature: 1, topK: 2, topP: 1 }, rng))).toMatch(/logit 1 is Infinity/);
    expect(code(() => sampler.sample(Float32Array.from([-Infinity, -Infinity, -Infinity]), { temperature: 1, topK: 2, topP: 1 }, rng))).toMatch(/all tokens masked/);
    expect(code(() => sampler.sample(new Float32Array(0), params, rng))).toMatch(/^ARGUMENT_INVALID/);
    expect(code(() => resolveSamplingParams({ temperature: -1 }, 'request "a"'))).toMatch(/^ARGUMENT_INVALID: request "a": temperature must be/);
    expect(code(() => resolveSamplingParams({ topK: 1.5 }))).toMatch(/topK must be an integer/);
    expect(code(() => resolveSamplingParams({ topP: 0 }))).toMatch(/topP must be in \(0, 1\]/);
    expect(code(() => resolveSamplingParams({ topP: 1.01 }))).toMatch(/topP must be in/);
    expect(code(() => resolveSamplingParams({ temperature: Number.NaN }))).toMatch(/temperature must be a finite/);
  });

  it('one stream per (seed, sample index): the same seed gives the same tokens; streams differ by index and seed', () => {
    const sampler = createSampler();
    const row = Float32Array.from(LOGITS);
    const params = resolveSamplingParams({ temperature: 1.5 });
    const draw = (seed: number, index: number): number[] => {
      const rng = createSampleRng(seed, index);
      return Array.from({ length: 30 }, () => sampler.sample(row, params, rng).tokenId);
    };
    expect(draw(7, 0)).toEqual(draw(7, 0));
    expect(draw(7, 1)).toEqual(draw(7, 1));
    expect(draw(7, 0)).not.toEqual(draw(7, 1));
    expect(draw(7, 0)).not.toEqual(draw(8, 0));
  });
});

describe('sampleRanked: drawing from a TopK output is drawing from the full row', () => {
  /** What ONNX TopK (largest, sorted) returns for one row: the k best by (value desc, id asc). */
  function topK(row: Float32Array, k: number): { values: Float32Array; ids: Int32Array } {
    const order = Array.from(row.keys()).sort((a, b) => (row[b] as number) - (row[a] as number) || a - b).slice(0, k);
    return { values: Float32Array.from(order, (id) => row[id] as number), ids: Int32Array.from(order) };
  }

  it('same token, same logprob (bit for bit) and the same random numbers used, for every kind of parameters', () => {
    const rng = createRng('ranked-rows');
    const full = createSampler();
    const ranked = createSampler();
    const cases: ResolvedSamplingParams[] = [
      { temperature: 1, topK: 50, topP: 1 },
      { temperature: 0.7, topK: 5, topP: 1 },
      { temperature: 1.3, topK: 40, topP: 0.9 },
      { temperature: 1, topK: 80, topP: 0.5 },
      { temperature: 0, topK: 0, topP: 1 },
      { temperature: 0, topK: 7, topP: 0.3 },
    ];
    let compared = 0;
    for (let trial = 0; trial < 60; trial++) {
      const vocab = 200 + trial * 37;
      // Quantised logits make ties common, so the id-ascending tie rule is exercised.
      const row = Float32Array.from({ length: vocab }, () => Math.round(rng.normal() * 8) / 4);
      for (const params of cases) {
        const given = topK(row, Math.max(params.topK, 1) + (trial % 3)); // TopK may return more than a row keeps
        const a = createSampleRng(trial, 0);
        const b = createSampleRng(trial, 0);
        expect(ranked.sampleRanked(given.values, given.ids, params, b)).toEqual(full.sample(row, params, a));
        expect(b.next()).toBe(a.next());
        compared++;
      }
    }
    expect(compared).toBe(360);
  });

  it('needs enough candidates for the row\'s top-k, finite values and real ids', () => {
    const sampler = createSampler();
    const values = Float32Array.of(3, 2, 1);
    const ids = Int32Array.of(4, 0, 9);
    const rng = createRng(1);
    expect(() => sampler.sampleRanked(values, ids, { temperature: 1, topK: 4, topP: 1 }, rng)).toThrow(/topK in \[1, 3\]/);
    expect(() => sampler.sampleRanked(values, ids, { temperature: 1, topK: 0, topP: 1 }, rng)).toThrow(/topK in \[1, 3\]/);
    expect(() => sampler.sampleRanked(Float32Array.of(Number.NaN, 1), Int32Array.of(0, 1), { temperature: 1, topK: 2, topP: 1 }, rng)).toThrow(MasaError);
    expect(() => sampler.sampleRanked(values, Int32Array.of(4, -1, 9), { temperature: 1, topK: 3, topP: 1 }, rng)).toThrow(/negative/);
    expect(sampler.sampleRanked(values, ids, { temperature: 0, topK: 0, topP: 1 }, rng)).toEqual({ tokenId: 4, logprob: 0 });
  });
});
