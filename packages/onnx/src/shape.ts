/**
 * Symbolic shapes. A dimension is a number or a symbol string: a name
 * (`batch`, `seq`), a product of names and one integer coefficient
 * (`batch*seq`, `2*seq`), a sum (`past+seq`, a single factor inside a product),
 * or an anonymous dimension (`?7`) that shape inference could not name.
 */
import { MasaError } from '@masa-rl/core';

/** One dimension of a symbolic shape. */
export type Dim = number | string;

/** A symbolic shape, outermost dimension first. */
export type Shape = readonly Dim[];

interface Monomial {
  coefficient: number;
  factors: string[];
}

/** Splits `a*b*(c+d)` at top-level `*` signs. */
function splitProduct(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '*' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function toMonomial(dim: Dim): Monomial {
  if (typeof dim === 'number') return { coefficient: dim, factors: [] };
  let coefficient = 1;
  const factors: string[] = [];
  for (const part of splitProduct(dim)) {
    if (/^\d+$/.test(part)) coefficient *= Number(part);
    else factors.push(part);
  }
  factors.sort();
  return { coefficient, factors };
}

function fromMonomial(monomial: Monomial): Dim {
  if (monomial.factors.length === 0) return monomial.coefficient;
  if (monomial.coefficient === 0) return 0;
  const body = monomial.factors.join('*');
  return monomial.coefficient === 1 ? body : `${monomial.coefficient}*${body}`;
}

/** Canonical form of a dim (sorted factors), so equal products compare equal. */
export function canonicalDim(dim: Dim): Dim {
  return typeof dim === 'number' ? dim : fromMonomial(toMonomial(dim));
}

/** True when the two dims are certainly equal. */
export function dimsEqual(a: Dim, b: Dim): boolean {
  return canonicalDim(a) === canonicalDim(b);
}

/** True when every dim of the shape is a number. */
export function isStaticShape(shape: Shape): shape is readonly number[] {
  return shape.every((dim) => typeof dim === 'number');
}

/** True for a dim that names nothing the caller knows (`?3`). */
export function isAnonymousDim(dim: Dim): boolean {
  return typeof dim === 'string' && dim.includes('?');
}

/** Product of two dims, symbolic where needed. */
export function multiplyDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  const factors = [...ma.factors, ...mb.factors].sort();
  return fromMonomial({ coefficient: ma.coefficient * mb.coefficient, factors });
}

/** Product of all dims (1 for a scalar shape). */
export function shapeSize(shape: Shape): Dim {
  let product: Dim = 1;
  for (const dim of shape) product = multiplyDims(product, dim);
  return product;
}

/** `a / b` when it divides exactly (symbolically), else undefined. */
export function divideDims(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    if (b === 0 || a % b !== 0) return undefined;
    return a / b;
  }
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  if (mb.coefficient === 0 || ma.coefficient % mb.coefficient !== 0) return undefined;
  const remaining = [...ma.factors];
  for (const factor of mb.factors) {
    const index = remaining.indexOf(factor);
    if (index < 0) return undefined;
    remaining.splice(index, 1);
  }
  return fromMonomial({ coefficient: ma.coefficient / mb.coefficient, factors: remaining });
}

/** Sum of two dims; symbolic sums are kept as one factor `(a+b)` when multiplied later. */
export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  const wrap = (dim: Dim): string => {
    const text = String(canonicalDim(dim));
    return text.includes('*') ? `(${text})` : text;
  };
  const terms = [wrap(a), wrap(b)].sort();
  return `(${terms.join('+')})`;
}

/** Renders a shape for error messages: `[batch, 3]`. */
export function formatShape(shape: Shape): string {
  return `[${shape.map(String).join(', ')}]`;
}

/**
 * The broadcast of two dims (numpy rules), or an error naming the op.
 * A named symbol against a number n > 1 gives n; an anonymous dim gives way to
 * any other dim. Two different named symbols are an error: rename them to one
 * name (see `withShape`) if they are equal at run time.
 */
export function broadcastDim(opName: string, a: Dim, b: Dim, shapes: readonly Shape[]): Dim {
  if (dimsEqual(a, b)) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === 'number' && typeof b === 'number') {
    throw broadcastError(opName, a, b, shapes);
  }
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  if (isAnonymousDim(a)) return b;
  if (isAnonymousDim(b)) return a;
  throw broadcastError(opName, a, b, shapes);
}

function broadcastError(opName: string, a: Dim, b: Dim, shapes: readonly Shape[]): MasaError {
  return new MasaError(
    'GRAPH_INVALID',
    `${opName}: cannot broadcast dim ${String(a)} with ${String(b)}: ${shapes.map(formatShape).join(' vs ')}` +
      ' (make the shapes match, or give equal symbolic dims one name with withShape())',
    { details: { op: opName, shapes: shapes.map((shape) => [...shape]) } },
  );
}

/** Broadcast of several shapes (numpy rules, right-aligned). */
export function broadcastShapes(opName: string, shapes: readonly Shape[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((shape) => shape.length));
  const result: Dim[] = [];
  for (let axis = 0; axis < rank; axis++) {
    let dim: Dim = 1;
    for (const shape of shapes) {
      const offset = axis - (rank - shape.length);
      if (offset < 0) continue;
      dim = broadcastDim(opName, dim, shape[offset] as Dim, shapes);
    }
    result.push(dim);
  }
  return result;
}

/**
 * How to sum a gradient of shape `outShape` back to `inShape` after a broadcast.
 * `axes` are the axes of `outShape` to sum (with keepdims); leading axes that
 * `inShape` lacks are included. `decidable` is false when a symbolic dim could be
 * 1 at run time, so the caller must decide at run time.
 */
export function broadcastReduction(inShape: Shape, outShape: Shape): { axes: number[]; decidable: boolean } {
  const axes: number[] = [];
  let decidable = true;
  const lead = outShape.length - inShape.length;
  for (let axis = 0; axis < outShape.length; axis++) {
    const outDim = outShape[axis] as Dim;
    if (axis < lead) {
      axes.push(axis);
      continue;
    }
    const inDim = inShape[axis - lead] as Dim;
    if (dimsEqual(inDim, outDim)) continue;
    if (inDim === 1) {
      axes.push(axis);
      continue;
    }
    decidable = false;
  }
  return { axes, decidable };
}

/** Normalises a possibly negative axis for a tensor of `rank`, or throws naming the op. */
export function normalizeAxis(opName: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new MasaError('GRAPH_INVALID', `${opName}: axis ${axis} is out of range for a tensor of rank ${rank}`, {
      details: { op: opName, axis, rank },
    });
  }
  return axis < 0 ? axis + rank : axis;
}
