/**
 * The one place that calls compute-engine. We use only its LaTeX parser, in
 * the raw (non-canonical) form: it is about six times faster than the
 * canonical form, and it never declares symbols, so one engine can be shared
 * by every grade without state leaking between answers.
 */
import { ComputeEngine } from '@cortex-js/compute-engine';
import { fromMathJson, UnsupportedExpression, type Expr } from './expression.js';

let engine: ComputeEngine | undefined;

function getEngine(): ComputeEngine {
  engine ??= new ComputeEngine();
  return engine;
}

/** Longest scalar text we hand to the parser; longer answers are compared as strings only. */
export const MAX_PARSE_LENGTH = 4000;

const CACHE_LIMIT = 4096;
const cache = new Map<string, Expr | null>();

/**
 * Rewrites plain-text math that compute-engine would misread: `np.arcsin(x)`,
 * `sqrt(2)`, `2**3`, bare function names, `\operatorname{sin}`.
 */
export function prepareForParse(text: string): string {
  let s = text;
  s = s.replace(/\b(?:np|math|sp|sympy)\./g, '');
  s = s.replace(/\*\*/g, '^');
  s = s.replace(/\\operatorname\s*\{\s*([A-Za-z]+)\s*\}/g, (_, name: string) => `\\${name}`);
  s = s.replace(
    /(^|[^A-Za-z\\])(arcsin|arccos|arctan|sinh|cosh|tanh|sin|cos|tan|sec|csc|cot|exp|log|ln|sqrt)(?=\s*\()/g,
    '$1\\$2',
  );
  // compute-engine reads \frac{d^2 v}{d t^3} as a second derivative (the order is taken from the
  // numerator only). When the orders disagree, spell the d as a plain symbol so the two differ.
  s = s.replace(
    /\\frac\s*\{\s*d\s*\^\s*\{?\s*(\d+)\s*\}?([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\s*\{\s*d\s*([A-Za-z])\s*\^\s*\{?\s*(\d+)\s*\}?\s*\}/g,
    (whole: string, top: string, body: string, variable: string, bottom: string) =>
      top === bottom ? whole : `\\frac{\\delta^{${top}}${body}}{\\delta ${variable}^{${bottom}}}`,
  );
  // \sqrt(x) → \sqrt{x} when the parenthesis closes simply.
  s = s.replace(/\\sqrt\s*\(([^()]*)\)/g, '\\sqrt{$1}');
  return s;
}

/**
 * Parses one scalar LaTeX expression into an {@link Expr}, or returns
 * undefined when compute-engine cannot read it as a scalar. Results are
 * cached (LRU, 4,096 entries), so a gold parsed once is free afterwards.
 */
export function parseScalar(text: string): Expr | undefined {
  if (text.length === 0 || text.length > MAX_PARSE_LENGTH) return undefined;
  const cached = cache.get(text);
  if (cached !== undefined) {
    cache.delete(text);
    cache.set(text, cached);
    return cached ?? undefined;
  }
  let result: Expr | null = null;
  try {
    const json = getEngine().parse(prepareForParse(text), { form: 'raw' }).json;
    result = fromMathJson(json);
  } catch (error: unknown) {
    if (!(error instanceof UnsupportedExpression) && !(error instanceof RangeError) && !(error instanceof Error)) throw error;
    result = null;
  }
  cache.set(text, result);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return result ?? undefined;
}
