import { resolve } from 'node:path';
import { createRng, MasaError, type Choice, type Problem } from '@masa-rl/core';
import { readTable } from './read-table.js';
import { findDataset, readManifest } from './registry.js';
import { formatIssues, type TableIssue } from './table.js';
import type { LoadedDataset } from './types.js';

/** Columns of the official GPQA CSV that the loader reads. */
export const GPQA_COLUMNS = ['Question', 'Correct Answer', 'Incorrect Answer 1', 'Incorrect Answer 2', 'Incorrect Answer 3', 'Record ID'] as const;

/**
 * The order the reference ends up with after `random.seed(42); random.shuffle(options)` on
 * `[correct, incorrect 1, incorrect 2, incorrect 3]` in CPython — the same for every question:
 * A = incorrect 2, B = incorrect 1, C = incorrect 3, D = correct (so the answer is always D).
 */
export const GPQA_PARITY_ORDER: readonly number[] = [2, 1, 3, 0];

const LABELS = ['A', 'B', 'C', 'D'] as const;

export interface LoadGpqaOptions {
  /**
   * Reproduce the reference's shuffle (the correct answer always at D) instead of a per-question
   * shuffle seeded by the Record ID. Report both (MASA-SPEC §14 #16).
   * @default false
   */
  parity?: boolean;
  /**
   * Folder of bundled datasets, for the registry entry `gpqa_diamond` (template, answer kind).
   * @default found by walking up from this package
   */
  datasetsDir?: string;
  /**
   * Keep only the first `limit` problems.
   * @default all
   */
  limit?: number;
}

/**
 * The option order for one question: indices into `[correct, incorrect 1, 2, 3]` for labels
 * A–D. Corrected mode shuffles with a generator seeded by the Record ID (`createRng(recordId)`,
 * which hashes the string), so each question gets its own, reproducible order.
 */
export function gpqaOptionOrder(recordId: string, parity: boolean): number[] {
  if (parity) return [...GPQA_PARITY_ORDER];
  return createRng(`gpqa:${recordId}`).shuffle([0, 1, 2, 3]);
}

/**
 * Loads the official GPQA CSV (e.g. `gpqa_diamond.csv`, which masa-rl does not bundle):
 * four options (correct + three incorrect) shuffled per question and labelled A–D; the answer
 * is the correct option's letter. Missing columns or cells throw `DATASET_INVALID` naming the
 * line and column.
 */
export async function loadGpqaCsv(path: string, options: LoadGpqaOptions = {}): Promise<LoadedDataset> {
  const { parity = false, limit } = options;
  const absolute = resolve(path);
  const table = await readTable(absolute, { format: 'csv' });
  const issues: TableIssue[] = [...table.issues];
  const first = table.rows[0];
  if (first !== undefined) {
    const missing = GPQA_COLUMNS.filter((column) => !Object.hasOwn(first.value, column));
    if (missing.length > 0) {
      throw new MasaError(
        'DATASET_INVALID',
        `${absolute}: the header lacks ${missing.map((column) => `"${column}"`).join(', ')}; pass the official GPQA CSV (gpqa_diamond.csv from the release's dataset.zip) to --gpqa-csv`,
        { details: { path: absolute, missing } },
      );
    }
  }
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  for (const { line, value } of table.rows) {
    const cells: Record<string, string> = {};
    let ok = true;
    for (const column of GPQA_COLUMNS) {
      const cell = value[column];
      if (typeof cell !== 'string' || cell.trim() === '') {
        issues.push({ line, field: column, message: 'is empty' });
        ok = false;
      } else cells[column] = cell;
    }
    if (!ok) continue;
    const recordId = (cells['Record ID'] as string).trim();
    const previous = seen.get(recordId);
    if (previous !== undefined) {
      issues.push({ line, field: 'Record ID', message: `"${recordId}" repeats line ${previous}` });
      continue;
    }
    seen.set(recordId, line);
    const texts = [cells['Correct Answer'], cells['Incorrect Answer 1'], cells['Incorrect Answer 2'], cells['Incorrect Answer 3']] as string[];
    const order = gpqaOptionOrder(recordId, parity);
    const choices: Choice[] = order.map((source, position) => ({ label: LABELS[position] as string, text: texts[source] as string }));
    // As in the reference: the first option whose text equals the correct answer.
    const answer = choices.find((choice) => choice.text === texts[0])?.label as string;
    const meta: Record<string, unknown> = { shuffle: parity ? 'parity-seed-42' : 'per-question' };
    for (const column of ['Subdomain', 'High-level domain']) {
      const cell = value[column];
      if (typeof cell === 'string' && cell !== '') meta[column === 'Subdomain' ? 'subdomain' : 'domain'] = cell;
    }
    problems.push({ id: recordId, question: cells['Question'] as string, answer, choices, meta });
  }
  if (issues.length > 0 || problems.length === 0) {
    const lines = issues.length > 0 ? formatIssues(absolute, 'line', issues) : [`${absolute}: no rows`];
    throw new MasaError('DATASET_INVALID', `GPQA CSV is malformed; fix these lines or pass the official file to --gpqa-csv:\n  ${lines.join('\n  ')}`, {
      details: { path: absolute, issues },
    });
  }
  const { manifest } = readManifest(options.datasetsDir === undefined ? {} : { datasetsDir: options.datasetsDir });
  const base = findDataset(manifest.datasets, 'gpqa_diamond');
  const info = { ...base, aliases: [...base.aliases], file: absolute, rows: problems.length, sha256: null };
  return { info, problems: limit === undefined ? problems : problems.slice(0, limit) };
}
