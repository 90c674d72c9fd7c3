import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { add, bitLength, compare, div, exactRoot, isqrt, mul, parseDecimal, powInt, rational, sub, toNumber, withinAbsolute, withinRelative } from './rational.js';

describe('rational arithmetic', () => {
  it('agrees with float arithmetic on random small fractions', () => {
    const rng = createRng('rational');
    for (let t = 0; t < 500; t++) {
      const a = rational(BigInt(rng.int(-999, 999)), BigInt(rng.int(1, 99)));
      const b = rational(BigInt(rng.int(-999, 999)), BigInt(rng.int(1, 99)));
      const fa = Number(a.n) / Number(a.d);
      const fb = Number(b.n) / Number(b.d);
      expect(toNumber(add(a, b))).toBeCloseTo(fa + fb, 10);
      expect(toNumber(sub(a, b))).toBeCloseTo(fa - fb, 10);
      expect(toNumber(mul(a, b))).toBeCloseTo(fa * fb, 10);
      if (b.n !== 0n) expect(toNumber(div(a, b))).toBeCloseTo(fa / fb, 8);
      expect(compare(a, b)).toBe(Math.sign(fa - fb) === 0 ? 0 : Math.sign(fa - fb));
    }
  });

  it('keeps fractions reduced with a positive denominator', () => {
    expect(rational(6n, -4n)).toEqual({ n: -3n, d: 2n });
    expect(() => rational(1n, 0n)).toThrow(RangeError);
  });

  it('reads decimal literals exactly', () => {
    expect(parseDecimal('0.1')).toEqual({ n: 1n, d: 10n });
    expect(parseDecimal('-3.250')).toEqual({ n: -13n, d: 4n });
    expect(parseDecimal('.5')).toEqual({ n: 1n, d: 2n });
    expect(parseDecimal('5.')).toEqual({ n: 5n, d: 1n });
    expect(parseDecimal('1.6e-19')).toEqual({ n: 1n, d: 6_250_000_000_000_000_000n });
    expect(parseDecimal('4.5E33')).toEqual({ n: 45n * 10n ** 32n, d: 1n });
    expect(parseDecimal('1,000')).toBeUndefined();
    expect(parseDecimal('.')).toBeUndefined();
  });

  it('converts huge values to the nearest double without overflow', () => {
    const big = 10n ** 400n;
    expect(toNumber({ n: big, d: 10n ** 399n })).toBe(10);
    expect(toNumber({ n: 1n, d: big })).toBe(0);
    expect(toNumber({ n: 2n ** 1100n, d: 1n })).toBe(Infinity);
    expect(toNumber({ n: 2n ** 1000n + 1n, d: 2n ** 999n })).toBe(2);
  });

  it('raises to integer powers like repeated multiplication, and refuses oversized results', () => {
    const base = rational(-3n, 2n);
    let product = rational(1n);
    for (let k = 1; k <= 12; k++) {
      product = mul(product, base);
      expect(powInt(base, BigInt(k))).toEqual(product);
    }
    expect(powInt(rational(2n), -3n)).toEqual({ n: 1n, d: 8n });
    expect(() => powInt(rational(3n), 1_000_000n)).toThrow(RangeError);
    expect(powInt(rational(-1n), 1_000_001n)).toEqual({ n: -1n, d: 1n });
  });

  it('takes exact square and cube roots only of perfect powers', () => {
    for (let v = 0n; v < 2000n; v++) {
      const r = isqrt(v);
      expect(r * r <= v && (r + 1n) * (r + 1n) > v).toBe(true);
    }
    expect(exactRoot(rational(9n, 4n), 2)).toEqual({ n: 3n, d: 2n });
    expect(exactRoot(rational(2n), 2)).toBeUndefined();
    expect(exactRoot(rational(-27n, 8n), 3)).toEqual({ n: -3n, d: 2n });
    expect(exactRoot(rational(-4n), 2)).toBeUndefined();
  });

  it('measures bit lengths and tolerances exactly', () => {
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(255n)).toBe(8);
    expect(bitLength(256n)).toBe(9);
    expect(bitLength(-(2n ** 100n))).toBe(101);
    const third = rational(1n, 3n);
    expect(withinAbsolute(third, parseDecimal('0.333333')!, 5n, 10_000_000n)).toBe(true); // |diff| = 3.3e-7
    expect(withinAbsolute(third, parseDecimal('0.333332')!, 5n, 10_000_000n)).toBe(false); // 1.33e-6
    expect(withinRelative(rational(12345n), rational(12346n), 1n, 10_000n)).toBe(true); // rel 8.1e-5
    expect(withinRelative(rational(12345n), rational(12346n), 1n, 1_000_000n)).toBe(false);
  });
});
