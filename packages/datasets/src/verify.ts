import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest, type RegistryOptions } from './registry.js';

/** The check of one bundled file against `manifest.json`. */
export interface FileCheck {
  path: string;
  ok: boolean;
  expected: { rows: number | null; bytes: number; sha256: string };
  /** `null` when the file could not be read. */
  actual: { rows: number | null; bytes: number; sha256: string } | null;
}

/** Non-empty lines of a JSONL text (the manifest's row count). */
export function countJsonlRows(text: string): number {
  let rows = 0;
  for (const line of text.split('\n')) if (line.trim() !== '') rows += 1;
  return rows;
}

/**
 * Recomputes every bundled file's sha256, size and (for JSONL) row count and
 * compares them with `manifest.json`. Returns one check per file; never throws
 * for a mismatch (the caller decides).
 */
export async function verifyDatasets(options: RegistryOptions = {}): Promise<FileCheck[]> {
  const { datasetsDir, manifest } = readManifest(options);
  const checks: FileCheck[] = [];
  for (const file of manifest.files) {
    const expected = { rows: file.rows, bytes: file.bytes, sha256: file.sha256 };
    let bytes: Buffer;
    try {
      bytes = await readFile(join(datasetsDir, file.path));
    } catch {
      checks.push({ path: file.path, ok: false, expected, actual: null });
      continue;
    }
    const actual = {
      rows: file.path.endsWith('.jsonl') ? countJsonlRows(bytes.toString('utf8')) : null,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    const ok = actual.rows === expected.rows && actual.bytes === expected.bytes && actual.sha256 === expected.sha256;
    checks.push({ path: file.path, ok, expected, actual });
  }
  return checks;
}
