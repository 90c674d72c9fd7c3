import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { parseCsv } from './csv.js';
import { parseJsonDocument, parseJsonl } from './jsonl.js';
import { parseParquet } from './parquet.js';
import type { ParsedTable, TableFormat } from './table.js';

const FORMAT_BY_EXTENSION: Record<string, TableFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

/** The formats `readTable` understands. */
export const TABLE_FORMATS: readonly TableFormat[] = ['jsonl', 'json', 'csv', 'parquet'];

/**
 * The format implied by a file name's extension, or undefined.
 * `.jsonl`/`.ndjson` → jsonl, `.json` → json, `.csv` → csv, `.parquet`/`.pq` → parquet.
 */
export function formatFromPath(path: string): TableFormat | undefined {
  return FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
}

/** Parses bytes of a known format into rows (with every issue found). */
export async function parseTable(bytes: Uint8Array, format: TableFormat, path: string): Promise<ParsedTable> {
  if (format === 'parquet') {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    try {
      return await parseParquet(buffer);
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MasaError('DATASET_INVALID', `${path} is not a readable parquet file (${reason}): check the file, or pass --format if it is not parquet`, {
        cause: error,
        details: { path },
      });
    }
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  if (format === 'csv') return parseCsv(text);
  if (format === 'json') return parseJsonDocument(text);
  return parseJsonl(text);
}

export interface ReadTableOptions {
  /**
   * The file's format.
   * @default from the extension (see {@link formatFromPath})
   */
  format?: TableFormat;
}

/**
 * Reads a JSONL, JSON-array, CSV or parquet file into rows. Malformed rows are
 * returned as `issues` (every one, with its line) rather than thrown, so a
 * caller can report all of them at once.
 */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<ParsedTable> {
  const format = options.format ?? formatFromPath(path);
  if (format === undefined) {
    throw new MasaError(
      'ARGUMENT_INVALID',
      `cannot tell the format of ${path} from its extension: pass --format ${TABLE_FORMATS.join('|')} (or rename it to .jsonl, .json, .csv or .parquet)`,
      { details: { path } },
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error: unknown) {
    const code = (error as { code?: unknown }).code;
    throw new MasaError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'DATASET_INVALID',
      code === 'ENOENT' ? `${path} does not exist: check the path (relative paths are resolved against the current directory)` : `cannot read ${path}: ${String(error)}`,
      { cause: error, details: { path } },
    );
  }
  return parseTable(bytes, format, path);
}
