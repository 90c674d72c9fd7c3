import { createRng } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32Bits,
  bf16BitsToNumber,
  f16BitsToF32Bits,
  f16BitsToNumber,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  f64ToBf16Bits,
  f64ToF16Bits,
  f64ToF32BitsRoundToOdd,
} from './half-precision.js';

// Every expected bit pattern below was worked out by hand from the IEEE layouts:
// f32 = s|e8|m23, f16 = s|e5|m10 (bias 15), bf16 = s|e8|m7 (the top half of f32).

describe('f32 → bf16 (round to nearest even)', () => {
  const cases: Array<[number, number, string]> = [
    [0x3f800000, 0x3f80, '1.0'],
    [0xc0000000, 0xc000, '-2.0'],
    [0x40490fdb, 0x4049, 'pi: dropped half 0x0fdb < 0x8000 rounds down'],
    [0x3f808000, 0x3f80, '1 + 2^-8: exact tie, kept LSB even → down'],
    [0x3f818000, 0x3f82, '1 + 3·2^-8: exact tie, kept LSB odd → up'],
    [0x3f808001, 0x3f81, 'just above the tie → up'],
    [0x3f807fff, 0x3f80, 'just below the tie → down'],
    [0x3fff8000, 0x4000, 'tie with odd LSB carries into the exponent (1.99609375 → 2)'],
    [0x7f7f7fff, 0x7f7f, 'below the overflow tie stays finite'],
    [0x7f7fffff, 0x7f80, 'f32 max rounds to +Inf'],
    [0x7f800000, 0x7f80, '+Inf'],
    [0xff800000, 0xff80, '-Inf'],
    [0x80000000, 0x8000, '-0'],
    [0x00008000, 0x0000, 'subnormal exact tie rounds to even 0'],
    [0x00018000, 0x0002, 'subnormal tie with odd LSB rounds up'],
    [0x00008001, 0x0001, 'subnormal above tie'],
    [0x7fc00000, 0x7fc0, 'quiet NaN'],
    [0xff810000, 0xff81, 'negative NaN keeps its payload'],
    [0x7f800001, 0x7fc0, 'NaN whose payload is all in the dropped bits stays NaN (quiet bit set)'],
  ];
  for (const [input, expected, label] of cases) {
    it(`${label}: 0x${input.toString(16)} → 0x${expected.toString(16)}`, () => {
      expect(f32BitsToBf16Bits(input)).toBe(expected);
    });
  }

  it('every bf16 pattern widens exactly and narrows back to itself (all 65,536)', () => {
    for (let h = 0; h < 65536; h++) {
      const wide = bf16BitsToF32Bits(h);
      expect(wide).toBe((h << 16) >>> 0);
      if (f32BitsToBf16Bits(wide) !== h) throw new Error(`bf16 0x${h.toString(16)} did not round-trip`);
    }
  });
});

describe('f32 → f16 (round to nearest even, subnormals, overflow)', () => {
  const cases: Array<[number, number, string]> = [
    [0x3f800000, 0x3c00, '1.0'],
    [0xc0000000, 0xc000, '-2.0'],
    [0x477fe000, 0x7bff, '65504 = f16 max'],
    [0x477fefff, 0x7bff, '65519.996 below the overflow tie'],
    [0x477ff000, 0x7c00, '65520 = tie between 65504 (odd) and 2^16 → Inf'],
    [0x3f801000, 0x3c00, '1 + 2^-11: tie, even → down'],
    [0x3f803000, 0x3c02, '1 + 3·2^-11: tie, odd → up'],
    [0x3f801001, 0x3c01, 'just above the tie'],
    [0x33800000, 0x0001, '2^-24 = smallest subnormal'],
    [0x33000000, 0x0000, '2^-25: tie between 0 and 2^-24 → 0'],
    [0x33000001, 0x0001, 'just above 2^-25'],
    [0x33c00000, 0x0002, '1.5·2^-24: tie between 1 and 2 units → 2'],
    [0x33400000, 0x0001, '0.75·2^-24 rounds up to 2^-24'],
    [0x387fc000, 0x03ff, 'largest subnormal 1023·2^-24'],
    [0x387ff000, 0x0400, '(1 - 2^-12)·2^-14 rounds up into the smallest normal'],
    [0x38800000, 0x0400, '2^-14 = smallest normal'],
    [0x322bcc77, 0x0000, '1e-8 underflows to 0'],
    [0xb2000000, 0x8000, '-2^-27 underflows to -0'],
    [0x7f800000, 0x7c00, '+Inf'],
    [0xff800000, 0xfc00, '-Inf'],
    [0x7fc00000, 0x7e00, 'quiet NaN'],
    [0x7f802000, 0x7c01, 'NaN payload bit 13 survives'],
    [0x7f800001, 0x7e00, 'NaN with only dropped payload bits stays NaN'],
  ];
  for (const [input, expected, label] of cases) {
    it(`${label}: 0x${input.toString(16)} → 0x${expected.toString(16)}`, () => {
      expect(f32BitsToF16Bits(input)).toBe(expected);
    });
  }

  it('widens known f16 patterns exactly', () => {
    expect(f16BitsToF32Bits(0x0001)).toBe(0x33800000);
    expect(f16BitsToF32Bits(0x03ff)).toBe(0x387fc000);
    expect(f16BitsToF32Bits(0x0400)).toBe(0x38800000);
    expect(f16BitsToF32Bits(0x7bff)).toBe(0x477fe000);
    expect(f16BitsToF32Bits(0x8000)).toBe(0x80000000);
    expect(f16BitsToF32Bits(0x7c00)).toBe(0x7f800000);
    expect(f16BitsToF32Bits(0xfc00)).toBe(0xff800000);
    expect(f16BitsToF32Bits(0x7e00)).toBe(0x7fc00000);
    expect(f16BitsToNumber(0x3555)).toBe(0.333251953125); // 1365/4096
    expect(bf16BitsToNumber(0x3eab)).toBe(0.333984375);
  });

  it('every f16 pattern narrows back to itself (all 65,536)', () => {
    for (let h = 0; h < 65536; h++) {
      if (f32BitsToF16Bits(f16BitsToF32Bits(h)) !== h) throw new Error(`f16 0x${h.toString(16)} did not round-trip`);
    }
  });

  it('matches a brute-force nearest-even search over all finite f16 values (20,000 random f32)', () => {
    // Independent oracle: the sorted table of every non-negative finite f16 value, widened by
    // plain arithmetic (m·2^(e-25) for normals), and a nearest search in float64.
    const values: number[] = [];
    for (let e = 0; e < 31; e++) {
      for (let m = 0; m < 1024; m++) values.push(e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25));
    }
    const nearestBits = (x: number): number => {
      const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
      const a = Math.abs(x);
      const overflowTie = 65520; // halfway between 65504 and 2^16
      if (a >= overflowTie) return sign | 0x7c00;
      let lo = 0;
      let hi = values.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if ((values[mid] as number) <= a) lo = mid;
        else hi = mid;
      }
      const dLo = a - (values[lo] as number);
      const dHi = (values[hi] as number) - a;
      const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
      return sign | pick;
    };
    const rng = createRng('f16-brute-force');
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < 20_000; i++) {
      // Exponents spread over the whole f16 range and a little beyond.
      const x = (rng.next() < 0.5 ? -1 : 1) * (1 + rng.next()) * 2 ** rng.int(-27, 16);
      f32[0] = x;
      const got = f32BitsToF16Bits(u32[0] as number);
      const want = nearestBits(f32[0] as number);
      if (got !== want) throw new Error(`f32 ${f32[0]}: got 0x${got.toString(16)}, want 0x${want.toString(16)}`);
    }
  });
});

describe('float64 → f16 / bf16 without double rounding', () => {
  it('rounds a value just above an f32-exact tie up, where f64 → f32 → bf16 would round down', () => {
    const x = 1 + 2 ** -8 + 2 ** -30; // above the bf16 tie; f32 rounds it onto the tie
    expect(f32BitsToBf16Bits(new Uint32Array(new Float32Array([x]).buffer)[0] as number)).toBe(0x3f80); // the double-rounding trap
    expect(f64ToBf16Bits(x)).toBe(0x3f81);
    expect(f64ToBf16Bits(1 + 2 ** -8 - 2 ** -30)).toBe(0x3f80);
    expect(f64ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // true tie → even
  });

  it('rounds f16 correctly from float64', () => {
    expect(f64ToF16Bits(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01);
    expect(f64ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(f64ToF16Bits(2 ** -25 + 2 ** -60)).toBe(0x0001);
    expect(f64ToF16Bits(1e300)).toBe(0x7c00);
    expect(f64ToF16Bits(-1e-300)).toBe(0x8000);
    expect(f64ToF16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(f64ToF16Bits(Number.NaN) & 0x3ff).not.toBe(0);
  });

  it('round-to-odd sets the last bit only when inexact', () => {
    expect(f64ToF32BitsRoundToOdd(1)).toBe(0x3f800000);
    expect(f64ToF32BitsRoundToOdd(1 + 2 ** -30)).toBe(0x3f800001);
    expect(f64ToF32BitsRoundToOdd(2 - 2 ** -30)).toBe(0x3fffffff);
    expect(f64ToF32BitsRoundToOdd(-(1 + 2 ** -30))).toBe(0xbf800001);
    expect(f64ToF32BitsRoundToOdd(1e300)).toBe(0x7f7fffff);
    expect(f64ToF32BitsRoundToOdd(Number.POSITIVE_INFINITY)).toBe(0x7f800000);
    expect(f64ToF32BitsRoundToOdd(1e-300)).toBe(0x00000001);
  });
});
