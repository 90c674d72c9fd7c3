/**
 * Argument checks shared by the public functions. Every failure is a
 * `MasaError` whose message names the field and the fix. Internal: not
 * re-exported from the package index.
 */
import { MasaError } from '@masa-rl/core';
import type { ErrorContext, NumberArrayLike } from './types.js';

/** Renders `{ step: 3, microBatch: 1 }` as ` (step 3, microBatch 1)`, or '' when empty. */
export function describeContext(context: ErrorContext | undefined): string {
  if (context === undefined) return '';
  const parts = Object.entries(context).map(([key, value]) => `${key} ${value}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** `seqLen` must be a positive integer. */
export function checkSeqLen(seqLen: number, context?: ErrorContext): void {
  if (!Number.isInteger(seqLen) || seqLen <= 0) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `seqLen must be a positive integer (the padded response length), got ${String(seqLen)}${describeContext(context)}`,
      { details: { field: 'seqLen', value: seqLen, ...context } },
    );
  }
}

/**
 * Checks that the response mask is a whole `[batch, seqLen]` matrix of 0/1
 * values and returns `batch`.
 */
export function checkResponseMask(
  responseMask: NumberArrayLike,
  seqLen: number,
  context?: ErrorContext,
): number {
  checkSeqLen(seqLen, context);
  if (responseMask.length % seqLen !== 0) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `responseMask has ${responseMask.length} entries, which is not a multiple of seqLen ${seqLen}: ` +
        `pass the mask as a flat row-major [batch, seqLen] matrix${describeContext(context)}`,
      { details: { field: 'responseMask', length: responseMask.length, seqLen, ...context } },
    );
  }
  for (let index = 0; index < responseMask.length; index++) {
    const value = responseMask[index];
    if (value !== 0 && value !== 1) {
      throw new MasaError(
        'ARGUMENT_INVALID',
        `responseMask[${index}] (row ${Math.floor(index / seqLen)}, token ${index % seqLen}) is ${String(value)}; ` +
          `the mask must hold only 0 (padding) and 1 (response token)${describeContext(context)}`,
        { details: { field: 'responseMask', index, value, ...context } },
      );
    }
  }
  return responseMask.length / seqLen;
}

/** `values.length` must equal `expected` (the mask's length or the number of sequences). */
export function checkLength(
  field: string,
  values: NumberArrayLike,
  expected: number,
  what: string,
  context?: ErrorContext,
): void {
  if (values.length !== expected) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `${field} has ${values.length} entries but ${expected} are expected (${what})${describeContext(context)}`,
      { details: { field, length: values.length, expected, ...context } },
    );
  }
}

/**
 * Every entry where the mask is 1 must be finite (masked-out entries are never
 * read, so padding may hold anything, including -Infinity).
 */
export function checkFiniteWhereMasked(
  field: string,
  values: NumberArrayLike,
  responseMask: NumberArrayLike,
  seqLen: number,
  context?: ErrorContext,
): void {
  for (let index = 0; index < values.length; index++) {
    if (responseMask[index] !== 1) continue;
    const value = values[index] as number;
    if (!Number.isFinite(value)) {
      throw new MasaError(
        'NUMERIC_INSTABILITY',
        `${field}[${index}] (row ${Math.floor(index / seqLen)}, token ${index % seqLen}) is ${String(value)} ` +
          `on a response token; check the forward pass that produced ${field}${describeContext(context)}`,
        { details: { field, index, value, ...context } },
      );
    }
  }
}

/** A config number must be finite and satisfy `ok`; otherwise CONFIG_INVALID naming the verl key. */
export function checkConfigNumber(
  field: string,
  verlKey: string,
  value: number,
  ok: (value: number) => boolean,
  requirement: string,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new MasaError(
      'CONFIG_INVALID',
      `${field} (verl ${verlKey}) must be ${requirement}, got ${String(value)}: fix it in the run config`,
      { details: { field, verlKey, value } },
    );
  }
}
