/**
 * Messages between {@link createChildProcessEngine} and its child process
 * (`child-entry.ts`), sent over the IPC channel with structured-clone
 * serialisation (typed arrays survive).
 */
import { MasaError, type MasaErrorCode, MASA_ERROR_CODES, type RolloutEvent, type RolloutRequest, type RolloutResult } from '@masa-rl/core';
import type { SampleDelta } from '@masa-rl/core';

/** An error as it crosses the process boundary. */
export interface SerializedError {
  code: MasaErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export type ParentMessage =
  | { type: 'init'; modulePath: string; exportName: string; options: unknown }
  | { type: 'generate'; callId: number; requests: RolloutRequest[]; wantEvents: boolean; wantDeltas: boolean }
  | { type: 'abort'; callId: number }
  | { type: 'close' };

export type ChildMessage =
  | { type: 'ready'; name: string }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'event'; callId: number; event: RolloutEvent }
  | { type: 'delta'; callId: number; delta: SampleDelta }
  | { type: 'result'; callId: number; results: RolloutResult[] }
  | { type: 'error'; callId: number; error: SerializedError };

/** Keeps code, message and JSON-safe details; anything else becomes `fallback`. */
export function serializeError(error: unknown, fallback: MasaErrorCode): SerializedError {
  if (MasaError.isInstance(error)) {
    let details: Record<string, unknown> = {};
    try {
      details = JSON.parse(JSON.stringify(error.details)) as Record<string, unknown>;
    } catch {
      details = {};
    }
    return { code: error.code, message: error.message, details };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: fallback, message, details: {} };
}

/** Rebuilds a MasaError from the wire (an unknown code becomes ENGINE_FAILED). */
export function deserializeError(error: SerializedError): MasaError {
  const code = MASA_ERROR_CODES.includes(error.code) ? error.code : 'ENGINE_FAILED';
  return new MasaError(code, error.message, { details: error.details });
}
