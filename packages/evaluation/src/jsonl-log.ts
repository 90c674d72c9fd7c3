/**
 * Append-only JSONL logs that survive a crash: every record is one line written by one call, and on
 * reading, a torn last line (a write cut short by a kill or a power loss) is reported so the caller
 * can truncate it. A bad line with good lines after it is real corruption and is refused.
 */
import { MasaError } from '@masa-rl/core';
import { writeFileAtomic as writeDatasetFileAtomic } from '@masa-rl/datasets';

/** The readable part of a JSONL log. */
export interface JsonlLog {
  /** Parsed records of every complete, valid line, with their 1-based line numbers. */
  records: Array<{ line: number; value: unknown }>;
  /** Bytes of the valid prefix (the file should be truncated to this length when `torn`). */
  validBytes: number;
  /** True when the file ends in an incomplete or unparseable last line. */
  torn: boolean;
}

/**
 * Splits a JSONL file's bytes into records. A last line without its newline, or an unparseable last
 * line, is torn; an unparseable line followed by more lines throws `CHECKPOINT_INVALID` naming it.
 */
export function parseJsonlLog(bytes: Uint8Array, file: string, fix: string): JsonlLog {
  const records: Array<{ line: number; value: unknown }> = [];
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let start = 0;
  let line = 0;
  let validBytes = 0;
  let badLine: { line: number; message: string } | undefined;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    line += 1;
    if (badLine !== undefined) {
      throw new MasaError('CHECKPOINT_INVALID', `${file}:${badLine.line}: ${badLine.message}, and more lines follow it; ${fix}`, {
        details: { file, line: badLine.line },
      });
    }
    // No newline: the last write was cut short.
    if (end === -1) return { records, validBytes, torn: true };
    const text = decoder.decode(bytes.subarray(start, end));
    if (text.trim() !== '') {
      try {
        records.push({ line, value: JSON.parse(text) as unknown });
      } catch (error: unknown) {
        badLine = { line, message: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
        start = end + 1;
        continue;
      }
    }
    start = end + 1;
    validBytes = start;
  }
  return { records, validBytes, torn: badLine !== undefined };
}

/** Writes a file atomically (a temporary file beside it, then a rename); failures throw `FILE_WRITE_FAILED`. */
export function writeFileAtomic(path: string, data: string): Promise<void> {
  return writeDatasetFileAtomic(path, data, { alternative: 'or pass another --out' });
}
