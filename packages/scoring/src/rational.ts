/**
 * Exact rational arithmetic on BigInt, used wherever both sides of a
 * comparison are exact (integers, fractions, decimal literals read as the
 * rationals they spell). Every result is bounded in size: an operation whose
 * result would exceed {@link MAX_RATIONAL_BITS} throws a `RangeError`, which
 * the comparator reads as "undecided" (never as equal).
 */

/** A reduced fraction `n / d` with `d > 0`. */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

/** Largest numerator or denominator we keep, in bits (≈ 20,000 decimal digits; 2004! has 5,700). */
export const MAX_RATIONAL_BITS = 65_536;

const ZERO = 0n;
const ONE = 1n;

function absBig(value: bigint): bigint {
  return value < ZERO ? -value : value;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = absBig(a);
  let y = absBig(b);
  while (y !== ZERO) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/** Number of bits of |value| (0 for 0). */
export function bitLength(value: bigint): number {
  const abs = absBig(value);
  if (abs === ZERO) return 0;
  const hex = abs.toString(16);
  const top = Number.parseInt(hex[0] as string, 16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(top));
}

function checkSize(value: bigint): void {
  if (bitLength(value) > MAX_RATIONAL_BITS) throw new RangeError('rational too large');
}

/** Builds the reduced fraction `n / d`. Throws `RangeError` on a zero denominator or an oversized result. */
export function rational(n: bigint, d: bigint = ONE): Rational {
  if (d === ZERO) throw new RangeError('division by zero');
  checkSize(n);
  checkSize(d);
  const g = gcd(n, d);
  let num = g === ONE ? n : n / g;
  let den = g === ONE ? d : d / g;
  if (den < ZERO) {
    num = -num;
    den = -den;
  }
  return { n: num, d: den };
}

export const RATIONAL_ZERO: Rational = { n: ZERO, d: ONE };
export const RATIONAL_ONE: Rational = { n: ONE, d: ONE };

export function add(a: Rational, b: Rational): Rational {
  return rational(a.n * b.d + b.n * a.d, a.d * b.d);
}

export function sub(a: Rational, b: Rational): Rational {
  return rational(a.n * b.d - b.n * a.d, a.d * b.d);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.n * b.n, a.d * b.d);
}

export function div(a: Rational, b: Rational): Rational {
  if (b.n === ZERO) throw new RangeError('division by zero');
  return rational(a.n * b.d, a.d * b.n);
}

export function neg(a: Rational): Rational {
  return { n: -a.n, d: a.d };
}

export function absRational(a: Rational): Rational {
  return a.n < ZERO ? { n: -a.n, d: a.d } : a;
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function compare(a: Rational, b: Rational): number {
  const left = a.n * b.d;
  const right = b.n * a.d;
  return left < right ? -1 : left > right ? 1 : 0;
}

export function isInteger(a: Rational): boolean {
  return a.d === ONE;
}

/**
 * `base ** exponent` for an integer exponent. Refuses (RangeError) when the
 * result would be larger than {@link MAX_RATIONAL_BITS}, before computing it.
 */
export function powInt(base: Rational, exponent: bigint): Rational {
  if (exponent === ZERO) {
    if (base.n === ZERO) throw new RangeError('0^0');
    return RATIONAL_ONE;
  }
  if (base.n === ZERO) {
    if (exponent < ZERO) throw new RangeError('division by zero');
    return RATIONAL_ZERO;
  }
  const e = absBig(exponent);
  const bits = Math.max(bitLength(base.n), bitLength(base.d));
  if (bits > 1 && Number(e) * (bits - 1) > MAX_RATIONAL_BITS) throw new RangeError('power too large');
  if (bits === 1 && absBig(base.n) === ONE && base.d === ONE) {
    // ±1 to any power.
    const odd = e % 2n === ONE;
    const sign = base.n < ZERO && odd ? -ONE : ONE;
    return { n: sign, d: ONE };
  }
  const n = base.n ** e;
  const d = base.d ** e;
  return exponent > ZERO ? rational(n, d) : rational(d, n);
}

/** Integer square root of a non-negative BigInt (floor). */
export function isqrt(value: bigint): bigint {
  if (value < ZERO) throw new RangeError('negative');
  if (value < 2n) return value;
  let x = BigInt(Math.floor(Math.sqrt(Number(value))));
  if (bitLength(value) > 100) x = ONE << BigInt(Math.ceil(bitLength(value) / 2));
  // Newton iteration from above.
  for (;;) {
    const y = (x + value / x) >> ONE;
    if (y >= x) break;
    x = y;
  }
  while (x * x > value) x -= ONE;
  while ((x + ONE) * (x + ONE) <= value) x += ONE;
  return x;
}

/** Exact k-th root of a rational when it is rational (perfect powers), else undefined. */
export function exactRoot(a: Rational, k: number): Rational | undefined {
  if (k === 2) {
    if (a.n < ZERO) return undefined;
    const rn = isqrt(a.n);
    const rd = isqrt(a.d);
    return rn * rn === a.n && rd * rd === a.d ? { n: rn, d: rd } : undefined;
  }
  if (k === 3) {
    const rootOf = (v: bigint): bigint | undefined => {
      const sign = v < ZERO ? -ONE : ONE;
      const abs = absBig(v);
      const r = BigInt(Math.round(Math.cbrt(Number(abs))));
      for (const c of [r - ONE, r, r + ONE]) if (c >= ZERO && c * c * c === abs) return sign * c;
      return undefined;
    };
    if (bitLength(a.n) > 150 || bitLength(a.d) > 150) return undefined;
    const rn = rootOf(a.n);
    const rd = rootOf(a.d);
    return rn !== undefined && rd !== undefined ? rational(rn, rd) : undefined;
  }
  return undefined;
}

/**
 * Reads a decimal literal exactly: `12`, `-3.25`, `.5`, `5.`, `1.6e-19`, `4.5E33`.
 * Returns undefined for anything else.
 */
export function parseDecimal(text: string): Rational | undefined {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/.exec(text);
  if (!match) return undefined;
  const [, sign = '', intPart = '', fracPart = '', expPart] = match;
  if (intPart === '' && fracPart === '') return undefined;
  if (intPart.length + fracPart.length > 5000) return undefined;
  const digits = BigInt((intPart || '0') + fracPart);
  const exponent = (expPart === undefined ? 0 : Number.parseInt(expPart, 10)) - fracPart.length;
  if (Math.abs(exponent) > 5000) return undefined;
  let n = sign === '-' ? -digits : digits;
  let d = ONE;
  if (exponent >= 0) n *= 10n ** BigInt(exponent);
  else d = 10n ** BigInt(-exponent);
  return rational(n, d);
}

/** Closest double to `a` (±Infinity or 0 when out of range), without overflowing on huge parts. */
export function toNumber(a: Rational): number {
  const nb = bitLength(a.n);
  const db = bitLength(a.d);
  if (nb <= 53 && db <= 53) return Number(a.n) / Number(a.d);
  const shift = nb - db - 64;
  const q = shift >= 0 ? a.n / (a.d << BigInt(shift)) : (a.n << BigInt(-shift)) / a.d;
  return Number(q) * 2 ** shift;
}

/** A readable form: `-3`, `7/2`. */
export function formatRational(a: Rational): string {
  return a.d === ONE ? a.n.toString() : `${a.n}/${a.d}`;
}

/**
 * Is |a − b| ≤ tol · max(|a|, |b|), computed exactly? `tol` is given as a
 * fraction `tolN / tolD` of integers.
 */
export function withinRelative(a: Rational, b: Rational, tolN: bigint, tolD: bigint): boolean {
  const diff = absRational(sub(a, b));
  const scale = compare(absRational(a), absRational(b)) >= 0 ? absRational(a) : absRational(b);
  // diff.n/diff.d * tolD <= tolN * scale.n/scale.d
  return diff.n * tolD * scale.d <= tolN * scale.n * diff.d;
}

/** Is |a − b| ≤ tolN / tolD, computed exactly? */
export function withinAbsolute(a: Rational, b: Rational, tolN: bigint, tolD: bigint): boolean {
  const diff = absRational(sub(a, b));
  return diff.n * tolD <= tolN * diff.d;
}
