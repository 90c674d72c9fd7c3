/**
 * Seeded pseudo-random numbers: xoshiro128** (32-bit state words, fast on V8
 * without BigInt), seeded through splitmix32. The whole state is four uint32
 * words, so it is cheap to checkpoint and restore exactly.
 */

/** Serialisable generator state: four unsigned 32-bit words. */
export type RngState = readonly [number, number, number, number];

export interface Rng {
  /** Uniform float in [0, 1) with 53 bits of randomness. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [min, max] (both inclusive), without modulo bias. */
  int(min: number, max: number): number;
  /** Standard normal sample (Box–Muller). */
  normal(): number;
  /** Index drawn with probability proportional to `weights[i]`. */
  weighted(weights: readonly number[]): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** A new independent generator derived from this one's seed and a label (does not advance this one). */
  fork(label: string | number): Rng;
  /** Copy of the current state. */
  getState(): RngState;
  /** Restore a state previously returned by {@link Rng.getState}. */
  setState(state: RngState): void;
}

/** 32-bit FNV-1a hash of a string, for deriving seeds from names and ids. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function seedToNumber(seed: number | string): number {
  if (typeof seed === 'string') return hashString(seed);
  if (!Number.isFinite(seed)) throw new RangeError(`RNG seed must be a finite number, got ${seed}`);
  // Mix the high part too so that seeds beyond 2^32 stay distinct.
  const low = seed >>> 0;
  const high = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
  return (low ^ Math.imul(high, 0x9e3779b1)) >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * Creates a seeded generator. The same seed always gives the same sequence.
 *
 * @param seed a number or a string (strings are hashed).
 */
export function createRng(seed: number | string): Rng {
  const base = seedToNumber(seed);
  const init = splitmix32(base);
  let s0 = init();
  let s1 = init();
  let s2 = init();
  let s3 = init();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };

  const next = (): number => {
    const high = nextUint32() >>> 5; // 27 bits
    const low = nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  };

  const rng: Rng = {
    next,
    nextUint32,
    int(min, max) {
      if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
        throw new RangeError(`rng.int needs integers min <= max, got ${min}, ${max}`);
      }
      const span = max - min + 1;
      if (span <= 4294967296) {
        const limit = 4294967296 - (4294967296 % span);
        for (;;) {
          const x = nextUint32();
          if (x < limit) return min + (x % span);
        }
      }
      return min + Math.floor(next() * span);
    },
    normal() {
      // One normal per two uniforms (no cached spare), so getState() captures
      // everything and a restored generator continues bit-identically.
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    weighted(weights) {
      let total = 0;
      for (const w of weights) {
        if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`rng.weighted: bad weight ${w}`);
        total += w;
      }
      if (total <= 0) throw new RangeError('rng.weighted: weights sum to zero');
      let target = next() * total;
      for (let i = 0; i < weights.length; i++) {
        target -= weights[i] as number;
        if (target < 0) return i;
      }
      // Float round-off: return the last index with positive weight.
      for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] as number) > 0) return i;
      return weights.length - 1;
    },
    pick(items) {
      if (items.length === 0) throw new RangeError('rng.pick: empty array');
      return items[rng.int(0, items.length - 1)] as (typeof items)[number];
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        const tmp = items[i] as (typeof items)[number];
        items[i] = items[j] as (typeof items)[number];
        items[j] = tmp;
      }
      return items;
    },
    fork(label) {
      return createRng(hashString(`${base}:${String(label)}`));
    },
    getState() {
      return [s0, s1, s2, s3];
    },
    setState(state) {
      if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
        throw new RangeError('rng.setState: expected four uint32 words');
      }
      [s0, s1, s2, s3] = state;
    },
  };
  return rng;
}
