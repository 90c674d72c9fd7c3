import { parse } from 'csv-parse/sync';
import type { ParsedTable, TableIssue, TableRow } from './table.js';

interface CsvRecordWithInfo {
  record: Record<string, string>;
  info: { lines: number; raw?: string };
  raw?: string;
}

/**
 * Parses CSV text with a header row (`csv-parse`). Quoted fields may span
 * lines; each row's `line` is the line its record starts on. A structural
 * error (unclosed quote, wrong column count) is reported with its line.
 */
export function parseCsv(text: string): ParsedTable {
  const issues: TableIssue[] = [];
  let records: CsvRecordWithInfo[];
  try {
    records = parse(text, {
      columns: true,
      bom: true,
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: false,
    }) as unknown as CsvRecordWithInfo[];
  } catch (error: unknown) {
    const line = typeof (error as { lines?: unknown }).lines === 'number' ? (error as { lines: number }).lines : 0;
    const reason = error instanceof Error ? error.message : String(error);
    issues.push({ line, message: `invalid CSV (${reason})` });
    return { format: 'csv', unit: 'line', rows: [], issues };
  }
  const rows: TableRow[] = records.map(({ record, info, raw }) => {
    // info.lines is the line the record ends on; step back over the newlines inside it.
    const body = (raw ?? info.raw ?? '').replace(/^(?:\r?\n)+/, '').replace(/\r?\n$/, '');
    const inner = body.split('\n').length - 1;
    return { line: info.lines - inner, value: { ...record } };
  });
  return { format: 'csv', unit: 'line', rows, issues };
}
