/**
 * The ORT backend's checkpointed state: AdamW's step count, hyperparameters and both moments,
 * as three blobs (`optimizer.json`, `optimizer-m.bin`, `optimizer-v.bin`; moments are the
 * parameters' float32 arrays concatenated in parameter order, little-endian).
 */
import { MasaError } from '@masa-rl/core';
import type { AdamWState } from '@masa-rl/onnx';
import type { BackendState } from '@masa-rl/core';

/** AdamW settings fixed per optimiser instance. */
export interface AdamWHyperparameters {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

const FORMAT = 'masa-rl.ort-backend.optimizer';
const JSON_KEY = 'optimizer.json';
const FIRST_KEY = 'optimizer-m.bin';
const SECOND_KEY = 'optimizer-v.bin';

interface StateJson {
  format: typeof FORMAT;
  version: 1;
  step: number;
  hyper: AdamWHyperparameters | null;
  parameters: Array<{ name: string; size: number }>;
}

/** What is encoded. */
export interface OptimizerStateInput {
  parameterNames: readonly string[];
  parameterSizes: readonly number[];
  /** Absent before the first optimiser step. */
  hyper?: AdamWHyperparameters;
  state?: AdamWState;
}

function concat(arrays: readonly Float32Array[], total: number): Uint8Array {
  const out = new Float32Array(total);
  let offset = 0;
  for (const array of arrays) {
    out.set(array, offset);
    offset += array.length;
  }
  return new Uint8Array(out.buffer);
}

/** Encodes the optimiser state into backend blobs. */
export function encodeOptimizerState(input: OptimizerStateInput): BackendState {
  const { parameterNames, parameterSizes, hyper, state } = input;
  const json: StateJson = {
    format: FORMAT,
    version: 1,
    step: state?.step ?? 0,
    hyper: hyper ?? null,
    parameters: parameterNames.map((name, i) => ({ name, size: parameterSizes[i] as number })),
  };
  const blobs: BackendState = { [JSON_KEY]: new TextEncoder().encode(`${JSON.stringify(json)}\n`) };
  if (hyper !== undefined && state !== undefined) {
    const total = parameterSizes.reduce((a, b) => a + b, 0);
    blobs[FIRST_KEY] = concat(state.firstMoments, total);
    blobs[SECOND_KEY] = concat(state.secondMoments, total);
  }
  return blobs;
}

function invalid(why: string): MasaError {
  return new MasaError('CHECKPOINT_INVALID', `ORT backend state: ${why}; resume from a checkpoint written by this model's ORT backend (or start fresh)`);
}

function split(bytes: Uint8Array, sizes: readonly number[], key: string): Float32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (bytes.byteLength !== total * 4) throw invalid(`${key} has ${bytes.byteLength} bytes, expected ${total * 4}`);
  const all = new Float32Array(new Uint8Array(bytes).buffer); // an aligned copy
  let offset = 0;
  return sizes.map((size) => {
    const part = all.slice(offset, offset + size);
    offset += size;
    return part;
  });
}

/**
 * Decodes blobs written by {@link encodeOptimizerState} for the same parameters; `undefined`
 * when no optimiser step had been taken.
 *
 * @throws MasaError `CHECKPOINT_INVALID` for missing blobs or another model's state.
 */
export function decodeOptimizerState(
  state: BackendState,
  expected: { parameterNames: readonly string[]; parameterSizes: readonly number[] },
): { hyper: AdamWHyperparameters; state: AdamWState } | undefined {
  const raw = state[JSON_KEY];
  if (raw === undefined) throw invalid(`${JSON_KEY} is missing`);
  let json: StateJson;
  try {
    json = JSON.parse(new TextDecoder().decode(raw)) as StateJson;
  } catch (error) {
    throw invalid(`${JSON_KEY} is not JSON (${(error as Error).message})`);
  }
  if (json.format !== FORMAT || json.version !== 1) throw invalid(`${JSON_KEY} is not an ORT backend optimizer state (format ${String(json.format)})`);
  const { parameterNames, parameterSizes } = expected;
  if (!Array.isArray(json.parameters) || json.parameters.length !== parameterNames.length) {
    throw invalid(`it lists ${Array.isArray(json.parameters) ? json.parameters.length : 'no'} parameters, the model has ${parameterNames.length}`);
  }
  json.parameters.forEach((parameter, i) => {
    if (parameter.name !== parameterNames[i] || parameter.size !== parameterSizes[i]) {
      throw invalid(`parameter ${i} is ${parameter.name} (${parameter.size}), the model has ${parameterNames[i]} (${parameterSizes[i]})`);
    }
  });
  if (json.hyper === null) return undefined;
  const first = state[FIRST_KEY];
  const second = state[SECOND_KEY];
  if (first === undefined || second === undefined) throw invalid(`${FIRST_KEY} and ${SECOND_KEY} are required after an optimiser step`);
  if (!Number.isInteger(json.step) || json.step < 0) throw invalid(`step must be a non-negative integer, got ${json.step}`);
  return {
    hyper: json.hyper,
    state: { step: json.step, firstMoments: split(first, parameterSizes, FIRST_KEY), secondMoments: split(second, parameterSizes, SECOND_KEY) },
  };
}
