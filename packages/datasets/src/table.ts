/** One record read from a table file, with where it came from. */
export interface TableRow {
  /**
   * 1-based location: the line number for JSONL and CSV (the record's first
   * line), the row number for parquet and JSON arrays.
   */
  line: number;
  value: Record<string, unknown>;
}

/** One problem found while reading or converting a file. */
export interface TableIssue {
  /** 1-based line (JSONL, CSV) or row (parquet, JSON array); 0 for the file as a whole. */
  line: number;
  /** The field concerned, when there is one. */
  field?: string;
  message: string;
}

/** How a table file is laid out. `json` is a JSON array of objects. */
export type TableFormat = 'jsonl' | 'json' | 'csv' | 'parquet';

/** Rows and issues of one parsed file. `unit` says what `line` counts. */
export interface ParsedTable {
  format: TableFormat;
  unit: 'line' | 'row';
  rows: TableRow[];
  issues: TableIssue[];
}

/** `line 7` or `row 7`, for messages. */
export function describeLocation(unit: 'line' | 'row', line: number): string {
  return line === 0 ? 'file' : `${unit} ${line}`;
}

/** Renders issues one per line: `path:line 7: field "answer": missing`. */
export function formatIssues(path: string, unit: 'line' | 'row', issues: readonly TableIssue[]): string[] {
  return issues.map((issue) => {
    const field = issue.field === undefined ? '' : ` field "${issue.field}":`;
    return `${path}: ${describeLocation(unit, issue.line)}:${field} ${issue.message}`;
  });
}
