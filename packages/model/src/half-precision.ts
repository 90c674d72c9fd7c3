/**
 * Bit-exact conversions between IEEE binary32 (f32), binary16 (f16) and bfloat16 (bf16).
 *
 * Narrowing rounds to nearest, ties to even, like PyTorch and the hardware converters:
 * overflow becomes ±Inf, tiny values become subnormals or ±0, NaN stays NaN (its sign and
 * the top bits of its payload are kept; a payload that would vanish gets the quiet bit, so
 * a NaN never turns into an Inf). Widening is exact.
 *
 * Narrowing from float64 goes through f32 with *round-to-odd*, which gives the correctly
 * rounded f16/bf16 result (plain f64 → f32 → bf16 would round twice and can be off by one
 * unit in the last place at exact ties of the intermediate).
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);
const scratchF64 = new Float64Array(1);
const scratchU64 = new BigUint64Array(scratchF64.buffer);

/** Bits of an f32 value (the value is first rounded to f32 with `Math.fround`). */
export function f32ToBits(value: number): number {
  scratchF32[0] = value;
  return scratchU32[0] as number;
}

/** The f32 value with these bits. */
export function bitsToF32(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0] as number;
}

/** bfloat16 bits (uint16) of the f32 with bits `bits`, rounded to nearest even. */
export function f32BitsToBf16Bits(bits: number): number {
  const b = bits >>> 0;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) {
    // NaN: keep sign and top payload bits; never let it become Inf.
    const truncated = b >>> 16;
    return (truncated & 0x007f) === 0 ? truncated | 0x0040 : truncated;
  }
  // Adding 0x7fff (+1 when the kept LSB is odd) carries into the kept part exactly when the
  // dropped half is above one half, or equal to one half with an odd kept part.
  const bias = 0x7fff + ((b >>> 16) & 1);
  return Math.floor((b + bias) / 65536) & 0xffff;
}

/** f32 bits of the bfloat16 with bits `half` (exact). */
export function bf16BitsToF32Bits(half: number): number {
  return ((half & 0xffff) << 16) >>> 0;
}

/** binary16 bits (uint16) of the f32 with bits `bits`, rounded to nearest even. */
export function f32BitsToF16Bits(bits: number): number {
  const b = bits >>> 0;
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  const mantissa = b & 0x7fffff;
  if (exponent === 0xff) {
    if (mantissa === 0) return sign | 0x7c00;
    const payload = mantissa >>> 13;
    return sign | 0x7c00 | (payload === 0 ? 0x200 : payload);
  }
  const e = exponent - 127 + 15; // biased f16 exponent
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or zero) result. Values below 2^-25 (e < -10) round to zero.
    if (e < -10) return sign;
    const full = mantissa | 0x800000; // 24 significant bits, implicit one included
    const shift = 14 - e; // 14..24
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1; // may carry into the smallest normal: correct
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1; // may carry into the exponent, up to Inf: correct
  return sign | half;
}

/** f32 bits of the binary16 with bits `half` (exact; subnormals are normalised). */
export function f16BitsToF32Bits(half: number): number {
  const h = half & 0xffff;
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent === 0) {
    if (mantissa === 0) return sign >>> 0;
    // value = mantissa * 2^-24: shift until the implicit bit (0x400) appears.
    let e = 113; // biased f32 exponent of 2^-14
    while ((mantissa & 0x400) === 0) {
      mantissa <<= 1;
      e -= 1;
    }
    return (sign | (e << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
}

/**
 * f32 bits of `value` rounded to f32 *toward zero, with the last bit set when inexact*
 * (round-to-odd). Narrowing that result again with round-to-nearest-even gives the
 * correctly rounded result of the original float64 for any format with at least two
 * fewer significand bits than f32 (f16, bf16).
 */
export function f64ToF32BitsRoundToOdd(value: number): number {
  if (Number.isNaN(value)) {
    scratchF64[0] = value;
    const bits = scratchU64[0] as bigint;
    const sign = Number((bits >> 63n) & 1n) << 31;
    const payload = Number((bits >> 29n) & 0x7fffffn);
    return (sign | 0x7f800000 | (payload === 0 ? 0x400000 : payload)) >>> 0;
  }
  const nearest = Math.fround(value);
  if (nearest === value) return f32ToBits(nearest);
  let bits = f32ToBits(nearest);
  // Inexact: step the magnitude down one ulp when rounding went away from zero (or to Inf).
  if (Math.abs(nearest) > Math.abs(value)) bits = (bits - 1) >>> 0;
  return (bits | 1) >>> 0;
}

/** bfloat16 bits of a float64 value, correctly rounded (nearest, ties to even). */
export function f64ToBf16Bits(value: number): number {
  return f32BitsToBf16Bits(f64ToF32BitsRoundToOdd(value));
}

/** binary16 bits of a float64 value, correctly rounded (nearest, ties to even). */
export function f64ToF16Bits(value: number): number {
  return f32BitsToF16Bits(f64ToF32BitsRoundToOdd(value));
}

/** The number a bfloat16 bit pattern stands for. */
export function bf16BitsToNumber(half: number): number {
  return bitsToF32(bf16BitsToF32Bits(half));
}

/** The number a binary16 bit pattern stands for. */
export function f16BitsToNumber(half: number): number {
  return bitsToF32(f16BitsToF32Bits(half));
}
