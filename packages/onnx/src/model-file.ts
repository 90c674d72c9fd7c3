/**
 * Writing models to disk. The model file appears atomically: bytes go to a
 * temp file in the same folder, which is then renamed over the target.
 * Weights can go to an external data file instead of the model (ONNX external
 * data): needed past protobuf's 2 GiB, and ONNX Runtime memory-maps such a
 * file when it loads the model by path.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { MasaError } from '@masa-rl/core';
import type { Graph } from './graph.js';
import { serializeGraph, type ExternalDataPlacement } from './serialize.js';
import type { TensorValue } from './tensor-value.js';

/**
 * The most initializer bytes to keep inside one ONNX model: protobuf caps a message at 2 GiB, less headroom for the
 * graph itself. Past it, weights go to an external data file ({@link createExternalDataFile}).
 */
export const MAX_INLINE_MODEL_BYTES = 1.9 * 2 ** 30;

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** A graph (serialised here) or ONNX model bytes. */
  model: Graph | Uint8Array;
  /** Target file, e.g. `out/model.onnx`; parent folders are created. */
  path: string;
  /** Initializers go to this data file instead of the model (only with a graph). @default all inline */
  externalData?: ExternalDataFile;
  /** The model's `doc_string` (only with a graph). @default '' */
  docString?: string;
}

/** Writes an `.onnx` file atomically (temp file + rename). Returns the number of bytes written. */
export async function saveModel(options: SaveModelOptions): Promise<number> {
  const { externalData, docString } = options;
  if ((externalData !== undefined || docString !== undefined) && options.model instanceof Uint8Array) {
    throw new MasaError('ARGUMENT_INVALID', 'saveModel: externalData and docString need a graph, not serialised bytes; pass the Graph');
  }
  const bytes =
    options.model instanceof Uint8Array
      ? options.model
      : serializeGraph(options.model, {
          ...(docString === undefined ? {} : { docString }),
          ...(externalData === undefined ? {} : { externalData: externalData.placementFor(options.path) }),
        });
  const folder = dirname(options.path);
  const temporary = join(folder, `.${basename(options.path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await mkdir(folder, { recursive: true });
    await writeFile(temporary, bytes);
    await rename(temporary, options.path);
  } catch (error: unknown) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new MasaError('FILE_WRITE_FAILED', `could not write model to ${options.path}: check that the folder is writable and has free space`, {
      cause: error,
      details: { path: options.path },
    });
  }
  return bytes.length;
}

/** Options of {@link createExternalDataFile}. */
export interface ExternalDataFileOptions {
  /** The data file to create (overwritten if it exists). It must sit in the folder of the models that use it, or below. */
  path: string;
  /**
   * Initializers smaller than this stay inline in the model.
   * @default 1024
   */
  minBytes?: number;
  /**
   * Every tensor starts at a multiple of this many bytes, so that ONNX Runtime can memory-map it in place.
   * @default 4096 (the page size)
   */
  alignment?: number;
}

/**
 * One external data file that several models can share: a tensor whose data (the same typed array) appears in
 * two graphs — the prefill and decode graphs of one set of weights, say — is written once.
 */
export interface ExternalDataFile {
  readonly path: string;
  /** Bytes written so far (with alignment padding). */
  readonly byteLength: number;
  /** Tensors written so far. */
  readonly tensorCount: number;
  /** The placement for a model saved at `modelPath` (for `serializeGraph`'s `externalData`). */
  placementFor(modelPath: string): ExternalDataPlacement;
  /** Closes the file (its data is then complete for ONNX Runtime to load); later placements fail. */
  close(): void;
}

/** Creates an external data file that {@link saveModel} (or `serializeGraph`) fills as it places initializers. */
export function createExternalDataFile(options: ExternalDataFileOptions): ExternalDataFile {
  const { path, minBytes = 1024, alignment = 4096 } = options;
  if (!Number.isInteger(alignment) || alignment < 1) throw new MasaError('ARGUMENT_INVALID', `createExternalDataFile: alignment must be a positive integer, got ${alignment}`);
  if (!Number.isFinite(minBytes) || minBytes < 0) throw new MasaError('ARGUMENT_INVALID', `createExternalDataFile: minBytes must be ≥ 0, got ${minBytes}`);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
  } catch (error: unknown) {
    throw new MasaError('FILE_WRITE_FAILED', `could not create the external data file ${path}: check that the folder exists and is writable`, {
      cause: error,
      details: { path },
    });
  }
  const offsets = new Map<ArrayBuffer | SharedArrayBuffer, Map<string, number>>();
  let position = 0;
  let tensorCount = 0;
  const padding = new Uint8Array(alignment);

  const write = (bytes: Uint8Array): void => {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd as number, bytes, done, bytes.byteLength - done);
  };
  const place = (value: TensorValue): number => {
    if (fd === undefined) throw new MasaError('ARGUMENT_INVALID', `external data file ${path} is closed; create a new one`);
    const { data } = value;
    const key = `${data.byteOffset}:${data.byteLength}`;
    const known = offsets.get(data.buffer)?.get(key);
    if (known !== undefined) return known;
    const gap = (alignment - (position % alignment)) % alignment;
    try {
      if (gap > 0) write(padding.subarray(0, gap));
      position += gap;
      write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (error: unknown) {
      throw new MasaError('FILE_WRITE_FAILED', `could not write to the external data file ${path}: check free disk space`, { cause: error, details: { path } });
    }
    const offset = position;
    position += data.byteLength;
    tensorCount += 1;
    let byBuffer = offsets.get(data.buffer);
    if (byBuffer === undefined) offsets.set(data.buffer, (byBuffer = new Map()));
    byBuffer.set(key, offset);
    return offset;
  };

  return {
    path,
    get byteLength() {
      return position;
    },
    get tensorCount() {
      return tensorCount;
    },
    placementFor(modelPath) {
      const location = relative(dirname(resolve(modelPath)), resolve(path));
      if (location.startsWith('..') || location.includes(`..${sep}`)) {
        throw new MasaError(
          'ARGUMENT_INVALID',
          `the external data file ${path} must sit in the folder of the model ${modelPath} or below it (ONNX Runtime refuses data paths that leave the model's folder)`,
        );
      }
      return {
        location: location.split(sep).join('/'),
        offsetOf: (_name, value) => (value.data.byteLength < minBytes ? undefined : place(value)),
      };
    },
    close() {
      if (fd === undefined) return;
      const open = fd;
      fd = undefined;
      closeSync(open);
    },
  };
}
