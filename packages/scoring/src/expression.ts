/**
 * Our own small expression tree for scalar answers. LaTeX is parsed by
 * compute-engine in its raw form (fast, stateless); the tree is then
 * evaluated here — exactly in BigInt rationals when it is rational, and in
 * complex double precision at sample points otherwise. No evaluation can run
 * away: powers, factorials and binomials are size-checked first.
 */
import {
  add as addR,
  div as divR,
  exactRoot,
  isInteger,
  mul as mulR,
  neg as negR,
  parseDecimal,
  powInt,
  rational,
  type Rational,
  toNumber,
  compare as compareR,
  RATIONAL_ONE,
} from './rational.js';

/** A scalar expression. `opaque` wraps notation we cannot evaluate but can still compare by structure. */
export type Expr =
  | { readonly k: 'num'; readonly value: Rational; readonly float: boolean }
  | { readonly k: 'sym'; readonly name: string }
  | { readonly k: 'const'; readonly name: 'pi' | 'e' | 'i' | 'inf' }
  | { readonly k: 'add' | 'mul'; readonly args: readonly Expr[] }
  | { readonly k: 'neg'; readonly arg: Expr }
  | { readonly k: 'div' | 'pow'; readonly left: Expr; readonly right: Expr }
  | { readonly k: 'fn'; readonly name: string; readonly args: readonly Expr[] };

/** Thrown when MathJSON contains something we do not read as a scalar (tuples, relations, parse errors). */
export class UnsupportedExpression extends Error {
  override readonly name = 'UnsupportedExpression';
}

type Json = unknown;

const FUNCTIONS: Readonly<Record<string, string>> = {
  Sin: 'sin', Cos: 'cos', Tan: 'tan', Sec: 'sec', Csc: 'csc', Cot: 'cot',
  Arcsin: 'asin', Arccos: 'acos', Arctan: 'atan', Arcsec: 'asec', Arccsc: 'acsc', Arccot: 'acot',
  Sinh: 'sinh', Cosh: 'cosh', Tanh: 'tanh', Arsinh: 'asinh', Arcosh: 'acosh', Artanh: 'atanh',
  Ln: 'ln', Lb: 'lb', Lg: 'lg', Abs: 'abs', Floor: 'floor', Ceil: 'ceil', Factorial: 'fact',
  Binomial: 'binom', Sqrt: 'sqrt', Root: 'root', Exp: 'exp', Sign: 'sign', Max: 'max', Min: 'min', Log: 'log',
  Square: 'square', Round: 'round', Gamma: 'gamma',
};

const INVERSE: Readonly<Record<string, string>> = { Sin: 'asin', Cos: 'acos', Tan: 'atan', Sinh: 'asinh', Cosh: 'acosh', Tanh: 'atanh' };

/** Heads that mean "this is not a scalar": the structure layer handles them, or the parse failed. */
const NOT_SCALAR = new Set([
  'Error', 'LatexString', 'Sequence', 'List', 'Tuple', 'Set', 'Interval', 'Union', 'Intersection', 'Equal', 'Less',
  'LessEqual', 'Greater', 'GreaterEqual', 'NotEqual', 'Element', 'Matrix', 'Colon', 'BaseForm', 'Range', 'Pair',
  'Measurement', 'Nothing', 'ContinuationPlaceholder', 'Block', 'Function', 'Assign', 'Hold', 'Triple', 'Single',
  'Sum', 'Product', 'Integrate', 'Limit', 'And', 'Or', 'Not', 'Implies', 'PlusMinus', 'Open', 'Closed',
]);

function num(value: Rational, float: boolean): Expr {
  return { k: 'num', value, float };
}

function numberFromJs(value: number): Expr {
  if (!Number.isFinite(value)) throw new UnsupportedExpression(`non-finite literal ${value}`);
  const text = String(value);
  const parsed = parseDecimal(text);
  if (!parsed) throw new UnsupportedExpression(`number ${text}`);
  const float = !Number.isInteger(value) || /e/i.test(text);
  return num(parsed, float);
}

function isIntLiteral(json: Json): json is number {
  return typeof json === 'number' && Number.isInteger(json) && json >= 0;
}

/** Converts compute-engine raw MathJSON into an {@link Expr}. Throws {@link UnsupportedExpression}. */
export function fromMathJson(json: Json, depth = 0): Expr {
  if (depth > 400) throw new UnsupportedExpression('expression nested too deeply');
  if (typeof json === 'number') return numberFromJs(json);
  if (typeof json === 'string') return fromSymbol(json);
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const record = json as Record<string, unknown>;
    if (typeof record['num'] === 'string') {
      const text = record['num'].replace(/[nd]$/, '');
      const parsed = parseDecimal(text);
      if (!parsed) throw new UnsupportedExpression(`number ${text.slice(0, 40)}`);
      return num(parsed, /[.eE]/.test(text));
    }
    if (typeof record['sym'] === 'string') return fromSymbol(record['sym']);
    throw new UnsupportedExpression('unknown MathJSON object');
  }
  if (!Array.isArray(json) || json.length === 0) throw new UnsupportedExpression('empty expression');
  const [head, ...rest] = json as [Json, ...Json[]];
  if (typeof head !== 'string') {
    // ["Apply", ["InverseFunction", "Tan"], x] arrives with an array head in some forms.
    throw new UnsupportedExpression('non-symbol head');
  }
  const sub = (value: Json): Expr => fromMathJson(value, depth + 1);
  switch (head) {
    case 'Add':
      return { k: 'add', args: rest.map(sub) };
    case 'Subtract':
      if (rest.length === 1) return { k: 'neg', arg: sub(rest[0]) };
      return { k: 'add', args: [sub(rest[0]), ...rest.slice(1).map((x) => ({ k: 'neg', arg: sub(x) }) as Expr)] };
    case 'Negate':
      return { k: 'neg', arg: sub(rest[0]) };
    case 'Multiply':
      return { k: 'mul', args: rest.map(sub) };
    case 'Divide':
    case 'Rational':
      if (rest.length !== 2) throw new UnsupportedExpression('division arity');
      return { k: 'div', left: sub(rest[0]), right: sub(rest[1]) };
    case 'Power':
      if (rest.length !== 2) throw new UnsupportedExpression('power arity');
      return { k: 'pow', left: sub(rest[0]), right: sub(rest[1]) };
    case 'Exp':
      return { k: 'pow', left: { k: 'const', name: 'e' }, right: sub(rest[0]) };
    case 'Square':
      return { k: 'pow', left: sub(rest[0]), right: num(rational(2n), false) };
    case 'Complex': {
      const re = sub(rest[0]);
      const im = sub(rest[1]);
      return { k: 'add', args: [re, { k: 'mul', args: [im, { k: 'const', name: 'i' }] }] };
    }
    case 'Degrees':
      return sub(rest[0]);
    case 'Delimiter': {
      const body = rest[0];
      if (Array.isArray(body) && body[0] === 'Sequence') {
        if (body.length !== 2) throw new UnsupportedExpression('tuple inside an expression');
        return sub(body[1]);
      }
      if (body === undefined) throw new UnsupportedExpression('empty delimiter');
      return sub(body);
    }
    case 'Sequence':
      if (rest.length === 1) return sub(rest[0]);
      throw new UnsupportedExpression('sequence');
    case 'InvisibleOperator': {
      // A mixed number: an integer directly followed by a fraction of integers, 2\frac12 = 5/2.
      if (rest.length === 2 && isIntLiteral(rest[0])) {
        const fraction = rest[1];
        if (Array.isArray(fraction) && (fraction[0] === 'Divide' || fraction[0] === 'Rational') && isIntLiteral(fraction[1]) && isIntLiteral(fraction[2])) {
          return { k: 'add', args: [sub(rest[0]), sub(fraction)] };
        }
      }
      return { k: 'mul', args: rest.map(sub) };
    }
    case 'Apply': {
      const fn = rest[0];
      if (Array.isArray(fn) && fn[0] === 'InverseFunction' && typeof fn[1] === 'string' && INVERSE[fn[1]]) {
        return { k: 'fn', name: INVERSE[fn[1]] as string, args: rest.slice(1).map(sub) };
      }
      return opaque(json);
    }
    case 'Log':
      if (rest.length === 1) return { k: 'fn', name: 'lg', args: [sub(rest[0])] };
      return { k: 'fn', name: 'log', args: [sub(rest[0]), sub(rest[1])] };
    default: {
      if (NOT_SCALAR.has(head)) throw new UnsupportedExpression(`not a scalar: ${head}`);
      const fn = FUNCTIONS[head];
      if (fn !== undefined) return { k: 'fn', name: fn, args: rest.map(sub) };
      return opaque(json);
    }
  }
}

/** A subexpression we cannot evaluate (derivative marks, accents, unknown functions): a variable named by its structure. */
function opaque(json: Json): Expr {
  const text = JSON.stringify(json);
  if (text.includes('"Error"')) throw new UnsupportedExpression('parse error inside an expression');
  return { k: 'sym', name: `#${text}` };
}

function fromSymbol(name: string): Expr {
  switch (name) {
    case 'Pi':
      return { k: 'const', name: 'pi' };
    case 'e':
    case 'ExponentialE':
      return { k: 'const', name: 'e' };
    case 'i':
    case 'ImaginaryUnit':
      return { k: 'const', name: 'i' };
    case 'PositiveInfinity':
    case 'ComplexInfinity':
      return { k: 'const', name: 'inf' };
    case 'NegativeInfinity':
      return { k: 'neg', arg: { k: 'const', name: 'inf' } };
    case 'Half':
      return num(rational(1n, 2n), false);
    case 'Nothing':
    case 'EmptySet':
    case 'ContinuationPlaceholder':
    case 'Undefined':
    case 'NaN':
      throw new UnsupportedExpression(`symbol ${name}`);
    default:
      if (name.startsWith("'")) return { k: 'sym', name: `text:${name.slice(1, -1).trim().toLowerCase()}` };
      return { k: 'sym', name };
  }
}

/** The free variables of an expression (opaque parts count as variables). */
export function freeVariables(expr: Expr, into: Set<string> = new Set()): Set<string> {
  switch (expr.k) {
    case 'sym':
      into.add(expr.name);
      break;
    case 'add':
    case 'mul':
    case 'fn':
      for (const arg of expr.args) freeVariables(arg, into);
      break;
    case 'neg':
      freeVariables(expr.arg, into);
      break;
    case 'div':
    case 'pow':
      freeVariables(expr.left, into);
      freeVariables(expr.right, into);
      break;
    default:
      break;
  }
  return into;
}

/** Does the expression contain a decimal or e-notation literal? */
export function hasFloatLiteral(expr: Expr): boolean {
  switch (expr.k) {
    case 'num':
      return expr.float;
    case 'add':
    case 'mul':
    case 'fn':
      return expr.args.some(hasFloatLiteral);
    case 'neg':
      return hasFloatLiteral(expr.arg);
    case 'div':
    case 'pow':
      return hasFloatLiteral(expr.left) || hasFloatLiteral(expr.right);
    default:
      return false;
  }
}

/** Does the expression mention infinity? */
export function hasInfinity(expr: Expr): boolean {
  switch (expr.k) {
    case 'const':
      return expr.name === 'inf';
    case 'add':
    case 'mul':
    case 'fn':
      return expr.args.some(hasInfinity);
    case 'neg':
      return hasInfinity(expr.arg);
    case 'div':
    case 'pow':
      return hasInfinity(expr.left) || hasInfinity(expr.right);
    default:
      return false;
  }
}

/** Result of exact evaluation: a value, "not rational", or "too large to decide". */
export type ExactResult = { kind: 'value'; value: Rational } | { kind: 'irrational' } | { kind: 'too-large' };

const IRRATIONAL: ExactResult = { kind: 'irrational' };
const TOO_LARGE: ExactResult = { kind: 'too-large' };

class NotRational extends Error {}

/** Evaluates a constant expression exactly when it is rational. */
export function evaluateExact(expr: Expr): ExactResult {
  try {
    return { kind: 'value', value: exact(expr, 0) };
  } catch (error: unknown) {
    if (error instanceof NotRational) return IRRATIONAL;
    if (error instanceof RangeError) return /too large|stack/i.test(error.message) ? TOO_LARGE : IRRATIONAL;
    throw error;
  }
}

const MAX_FACTORIAL = 3000;

function exact(expr: Expr, depth: number): Rational {
  if (depth > 400) throw new RangeError('expression too large');
  const rec = (e: Expr): Rational => exact(e, depth + 1);
  switch (expr.k) {
    case 'num':
      return expr.value;
    case 'sym':
    case 'const':
      throw new NotRational();
    case 'add':
      return expr.args.reduce<Rational>((acc, arg) => addR(acc, rec(arg)), { n: 0n, d: 1n });
    case 'mul':
      return expr.args.reduce<Rational>((acc, arg) => mulR(acc, rec(arg)), RATIONAL_ONE);
    case 'neg':
      return negR(rec(expr.arg));
    case 'div': {
      const denominator = rec(expr.right);
      if (denominator.n === 0n) throw new NotRational();
      return divR(rec(expr.left), denominator);
    }
    case 'pow': {
      const base = rec(expr.left);
      const exponent = rec(expr.right);
      if (isInteger(exponent)) {
        if (exponent.n < -100_000n || exponent.n > 100_000n) {
          if (base.n === 0n || (base.d === 1n && (base.n === 1n || base.n === -1n))) return powInt(base, exponent.n % 2n === 0n ? 2n : 1n);
          throw new RangeError('power too large');
        }
        if (base.n === 0n && exponent.n <= 0n) throw new NotRational();
        return powInt(base, exponent.n);
      }
      // Rational exponent p/q: exact when the q-th root is exact.
      if (exponent.d === 2n || exponent.d === 3n) {
        if (base.n < 0n && exponent.d === 2n) throw new NotRational();
        const root = exactRoot(base, Number(exponent.d));
        if (root === undefined) throw new NotRational();
        if (exponent.n < -100_000n || exponent.n > 100_000n) throw new RangeError('power too large');
        return powInt(root, exponent.n);
      }
      throw new NotRational();
    }
    case 'fn':
      return exactFunction(expr.name, expr.args.map(rec));
  }
}

function exactFunction(name: string, args: Rational[]): Rational {
  const [a, b] = args;
  if (a === undefined) throw new NotRational();
  switch (name) {
    case 'sqrt': {
      const root = exactRoot(a, 2);
      if (root === undefined) throw new NotRational();
      return root;
    }
    case 'root': {
      if (b === undefined || !isInteger(b)) throw new NotRational();
      const root = exactRoot(a, Number(b.n));
      if (root === undefined) throw new NotRational();
      return root;
    }
    case 'abs':
      return a.n < 0n ? negR(a) : a;
    case 'floor':
      return rational(a.n >= 0n ? a.n / a.d : -((-a.n + a.d - 1n) / a.d));
    case 'ceil':
      return rational(a.n >= 0n ? (a.n + a.d - 1n) / a.d : -(-a.n / a.d));
    case 'square':
      return mulR(a, a);
    case 'sign':
      return rational(a.n > 0n ? 1n : a.n < 0n ? -1n : 0n);
    case 'max':
      return args.reduce((m, x) => (compareR(x, m) > 0 ? x : m));
    case 'min':
      return args.reduce((m, x) => (compareR(x, m) < 0 ? x : m));
    case 'fact': {
      if (!isInteger(a) || a.n < 0n) throw new NotRational();
      if (a.n > BigInt(MAX_FACTORIAL)) throw new RangeError('factorial too large');
      let result = 1n;
      for (let k = 2n; k <= a.n; k++) result *= k;
      return rational(result);
    }
    case 'binom': {
      if (b === undefined || !isInteger(a) || !isInteger(b)) throw new NotRational();
      const n = a.n;
      let k = b.n;
      if (k < 0n || n < 0n || k > n) return rational(0n);
      if (k > n - k) k = n - k;
      if (k > 5000n) throw new RangeError('binomial too large');
      let result = 1n;
      for (let j = 1n; j <= k; j++) result = (result * (n - k + j)) / j;
      return rational(result);
    }
    case 'lg':
    case 'lb':
    case 'log': {
      // Exact only for integer logs of powers: log_b(b^k) = k.
      const base = name === 'lg' ? rational(10n) : name === 'lb' ? rational(2n) : b;
      if (base === undefined) throw new NotRational();
      if (!isInteger(a) || !isInteger(base) || base.n < 2n || a.n < 1n) throw new NotRational();
      let k = 0n;
      let value = a.n;
      while (value % base.n === 0n) {
        value /= base.n;
        k++;
      }
      if (value === 1n) return rational(k);
      throw new NotRational();
    }
    default:
      throw new NotRational();
  }
}

/** A complex number. */
export interface Complex {
  re: number;
  im: number;
}

const cx = (re: number, im = 0): Complex => ({ re, im });
const NAN: Complex = { re: Number.NaN, im: Number.NaN };

function cAdd(a: Complex, b: Complex): Complex {
  return cx(a.re + b.re, a.im + b.im);
}
function cMul(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return cx(a.re * b.re);
  return cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
function cDiv(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return cx(a.re / b.re);
  const d = b.re * b.re + b.im * b.im;
  return cx((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
function cExp(a: Complex): Complex {
  const m = Math.exp(a.re);
  if (a.im === 0) return cx(m);
  return cx(m * Math.cos(a.im), m * Math.sin(a.im));
}
function cLog(a: Complex): Complex {
  if (a.im === 0 && a.re > 0) return cx(Math.log(a.re));
  return cx(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));
}
function cPow(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) {
    if (a.re >= 0 || Number.isInteger(b.re)) return cx(a.re ** b.re);
  }
  if (a.re === 0 && a.im === 0) return b.re > 0 ? cx(0) : NAN;
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    let result = cx(1);
    const base = b.re < 0 ? cDiv(cx(1), a) : a;
    for (let k = 0; k < Math.abs(b.re); k++) result = cMul(result, base);
    return result;
  }
  return cExp(cMul(b, cLog(a)));
}
function cSqrt(a: Complex): Complex {
  if (a.im === 0) return a.re >= 0 ? cx(Math.sqrt(a.re)) : cx(0, Math.sqrt(-a.re));
  return cPow(a, cx(0.5));
}

/** Lanczos approximation of Γ(x) for real x. */
function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = c[0] as number;
  for (let k = 1; k < g + 2; k++) sum += (c[k] as number) / (z + k);
  const t = z + g + 0.5;
  return Math.sqrt(2 * Math.PI) * t ** (z + 0.5) * Math.exp(-t) * sum;
}

function realOnly(a: Complex, f: (x: number) => number): Complex {
  return a.im === 0 ? cx(f(a.re)) : NAN;
}

function evalFunction(name: string, args: Complex[]): Complex {
  const a = args[0] ?? NAN;
  const b = args[1];
  switch (name) {
    case 'sin':
      return a.im === 0 ? cx(Math.sin(a.re)) : cx(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im));
    case 'cos':
      return a.im === 0 ? cx(Math.cos(a.re)) : cx(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im));
    case 'tan':
      return realOnly(a, Math.tan);
    case 'sec':
      return realOnly(a, (x) => 1 / Math.cos(x));
    case 'csc':
      return realOnly(a, (x) => 1 / Math.sin(x));
    case 'cot':
      return realOnly(a, (x) => 1 / Math.tan(x));
    case 'asin':
      return realOnly(a, Math.asin);
    case 'acos':
      return realOnly(a, Math.acos);
    case 'atan':
      return realOnly(a, Math.atan);
    case 'asec':
      return realOnly(a, (x) => Math.acos(1 / x));
    case 'acsc':
      return realOnly(a, (x) => Math.asin(1 / x));
    case 'acot':
      return realOnly(a, (x) => Math.atan(1 / x));
    case 'sinh':
      return realOnly(a, Math.sinh);
    case 'cosh':
      return realOnly(a, Math.cosh);
    case 'tanh':
      return realOnly(a, Math.tanh);
    case 'asinh':
      return realOnly(a, Math.asinh);
    case 'acosh':
      return realOnly(a, Math.acosh);
    case 'atanh':
      return realOnly(a, Math.atanh);
    case 'ln':
      return cLog(a);
    case 'lg':
      return cDiv(cLog(a), cx(Math.LN10));
    case 'lb':
      return cDiv(cLog(a), cx(Math.LN2));
    case 'log':
      return b === undefined ? cDiv(cLog(a), cx(Math.LN10)) : cDiv(cLog(a), cLog(b));
    case 'exp':
      return cExp(a);
    case 'sqrt':
      return cSqrt(a);
    case 'root': {
      const n = b?.re ?? Number.NaN;
      if (a.im === 0 && a.re < 0 && Number.isInteger(n) && n % 2 === 1) return cx(-((-a.re) ** (1 / n)));
      return cPow(a, cx(1 / n));
    }
    case 'abs':
      return cx(Math.hypot(a.re, a.im));
    case 'floor':
      return realOnly(a, Math.floor);
    case 'ceil':
      return realOnly(a, Math.ceil);
    case 'round':
      return realOnly(a, Math.round);
    case 'sign':
      return realOnly(a, Math.sign);
    case 'square':
      return cMul(a, a);
    case 'max':
      return args.every((x) => x.im === 0) ? cx(Math.max(...args.map((x) => x.re))) : NAN;
    case 'min':
      return args.every((x) => x.im === 0) ? cx(Math.min(...args.map((x) => x.re))) : NAN;
    case 'fact':
      return realOnly(a, (x) => (x < 0 && Number.isInteger(x) ? Number.NaN : x > 171 ? Infinity : gamma(x + 1)));
    case 'gamma':
      return realOnly(a, gamma);
    case 'binom': {
      if (b === undefined || a.im !== 0 || b.im !== 0) return NAN;
      const n = a.re;
      const k = b.re;
      if (Number.isInteger(n) && Number.isInteger(k) && n >= 0 && k >= 0) {
        if (k > n) return cx(0);
        let result = 1;
        const kk = Math.min(k, n - k);
        for (let j = 1; j <= kk; j++) result = (result * (n - kk + j)) / j;
        return cx(result);
      }
      return cx(gamma(n + 1) / (gamma(k + 1) * gamma(n - k + 1)));
    }
    default:
      return NAN;
  }
}

/** Evaluates in complex double precision with the given variable values. Unknown variables give NaN. */
export function evaluateComplex(expr: Expr, env: ReadonlyMap<string, number>): Complex {
  switch (expr.k) {
    case 'num':
      return cx(toNumber(expr.value));
    case 'sym': {
      const value = env.get(expr.name);
      return value === undefined ? NAN : cx(value);
    }
    case 'const':
      return expr.name === 'pi' ? cx(Math.PI) : expr.name === 'e' ? cx(Math.E) : expr.name === 'i' ? cx(0, 1) : cx(Infinity);
    case 'add': {
      let acc = cx(0);
      for (const arg of expr.args) acc = cAdd(acc, evaluateComplex(arg, env));
      return acc;
    }
    case 'mul': {
      let acc = cx(1);
      for (const arg of expr.args) acc = cMul(acc, evaluateComplex(arg, env));
      return acc;
    }
    case 'neg': {
      const a = evaluateComplex(expr.arg, env);
      return cx(-a.re, a.im === 0 ? 0 : -a.im);
    }
    case 'div':
      return cDiv(evaluateComplex(expr.left, env), evaluateComplex(expr.right, env));
    case 'pow':
      return cPow(evaluateComplex(expr.left, env), evaluateComplex(expr.right, env));
    case 'fn':
      return evalFunction(expr.name, expr.args.map((arg) => evaluateComplex(arg, env)));
  }
}

/** A canonical text of the tree, for structural comparison. */
export function exprKey(expr: Expr): string {
  switch (expr.k) {
    case 'num':
      return expr.value.d === 1n ? expr.value.n.toString() : `${expr.value.n}/${expr.value.d}`;
    case 'sym':
      return expr.name;
    case 'const':
      return `@${expr.name}`;
    case 'add':
    case 'mul':
      return `${expr.k}(${expr.args.map(exprKey).sort().join(',')})`;
    case 'neg':
      return `neg(${exprKey(expr.arg)})`;
    case 'div':
    case 'pow':
      return `${expr.k}(${exprKey(expr.left)},${exprKey(expr.right)})`;
    case 'fn':
      return `${expr.name}(${expr.args.map(exprKey).join(',')})`;
  }
}
