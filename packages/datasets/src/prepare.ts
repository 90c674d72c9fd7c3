import { MasaError, type Problem } from '@masa-rl/core';
import { readTable } from './read-table.js';
import { isVerlRow, rowsToProblems, verlRowsToProblems, type FieldMapping } from './rows-to-problems.js';
import { formatIssues, type ParsedTable, type TableFormat, type TableIssue } from './table.js';

/** Issues shown in an error message; all of them are in `error.details.issues`. */
const MAX_ISSUES_IN_MESSAGE = 50;

/** How a file was read: a table format, or `verl` when its rows are verl-format. */
export type SourceLayout = TableFormat | 'verl';

/** The outcome of converting a file. */
export interface PreparedDataset {
  problems: Problem[];
  /** The file's format; `verl` when verl rows were detected. */
  layout: SourceLayout;
}

/** A converted table, before any error is raised. */
export interface ConversionResult extends PreparedDataset {
  issues: TableIssue[];
  unit: 'line' | 'row';
}

/** True when no field option was given, so verl rows may be detected. */
function noFieldsGiven(mapping: FieldMapping): boolean {
  return mapping.questionField === undefined && mapping.answerField === undefined && mapping.idField === undefined && mapping.choicesField === undefined;
}

/**
 * Converts parsed rows with a mapping. When no field is named and every row is
 * in verl format, the verl conversion is used instead. Never throws for bad
 * rows: they come back as issues.
 */
export function convertTable(table: ParsedTable, mapping: FieldMapping = {}): ConversionResult {
  if (noFieldsGiven(mapping) && table.rows.length > 0 && table.rows.every((row) => isVerlRow(row.value))) {
    const converted = verlRowsToProblems(table.rows);
    return { problems: converted.problems, issues: [...table.issues, ...converted.issues], layout: 'verl', unit: table.unit };
  }
  const converted = rowsToProblems(table.rows, mapping);
  const issues = [...table.issues, ...converted.issues].sort((a, b) => a.line - b.line);
  return { problems: converted.problems, issues, layout: table.format, unit: table.unit };
}

/**
 * Throws `DATASET_INVALID` listing every issue (the first
 * {@link MAX_ISSUES_IN_MESSAGE} in the message, all in `details.issues`), or
 * `DATASET_INVALID` for a file without rows.
 */
export function assertNoIssues(path: string, result: ConversionResult): void {
  if (result.issues.length === 0 && result.problems.length > 0) return;
  if (result.issues.length === 0) {
    throw new MasaError('DATASET_INVALID', `${path} has no rows: check that it is the right file`, { details: { path } });
  }
  const lines = formatIssues(path, result.unit, result.issues);
  const shown = lines.slice(0, MAX_ISSUES_IN_MESSAGE);
  const more = lines.length > shown.length ? `\n  … and ${lines.length - shown.length} more (all in error.details.issues)` : '';
  const badRows = new Set(result.issues.map((issue) => issue.line)).size;
  throw new MasaError(
    'DATASET_INVALID',
    `${path}: ${badRows} malformed ${result.unit === 'line' ? 'line' : 'row'}${badRows === 1 ? '' : 's'}; fix them (or map the right columns with --question-field/--answer-field/--id-field/--choices-field):\n  ${shown.join('\n  ')}${more}`,
    { details: { path, issues: result.issues, lines } },
  );
}

export interface PrepareDatasetOptions extends FieldMapping {
  /** Path of the user's file (JSONL, JSON array, CSV or parquet; verl parquet is detected). */
  input: string;
  /**
   * Format of the input.
   * @default from the file extension
   */
  format?: TableFormat;
}

/**
 * Converts a user's dataset file into problems in the uniform format. Every malformed row is
 * reported at once in one `DATASET_INVALID` error naming each line and field.
 */
export async function prepareDataset(options: PrepareDatasetOptions): Promise<PreparedDataset> {
  const { input, format, ...mapping } = options;
  const table = await readTable(input, format === undefined ? {} : { format });
  const result = convertTable(table, mapping);
  assertNoIssues(input, result);
  return { problems: result.problems, layout: result.layout };
}
