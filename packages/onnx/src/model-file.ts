/**
 * Writing models to disk. The file appears atomically: bytes go to a temp
 * file in the same folder, which is then renamed over the target.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import type { Graph } from './graph.js';
import { serializeGraph } from './serialize.js';

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** A graph (serialised here) or ONNX model bytes. */
  model: Graph | Uint8Array;
  /** Target file, e.g. `out/model.onnx`; parent folders are created. */
  path: string;
}

/** Writes an `.onnx` file atomically (temp file + rename). Returns the number of bytes written. */
export async function saveModel(options: SaveModelOptions): Promise<number> {
  const bytes = options.model instanceof Uint8Array ? options.model : serializeGraph(options.model);
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
