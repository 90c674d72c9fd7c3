import type { ParsedTable, TableIssue, TableRow } from './table.js';

/**
 * Parses JSONL text: one JSON object per line; blank lines are skipped.
 * Every bad line is reported (not just the first) with its 1-based number.
 */
export function parseJsonl(text: string): ParsedTable {
  const rows: TableRow[] = [];
  const issues: TableIssue[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = (lines[index] as string).replace(/\r$/, '');
    const line = index + 1;
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(index === 0 ? raw.replace(/^\uFEFF/, '') : raw);
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.message : String(error);
      issues.push({ line, message: `invalid JSON (${reason})` });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ line, message: `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` });
      continue;
    }
    rows.push({ line, value: value as Record<string, unknown> });
  }
  return { format: 'jsonl', unit: 'line', rows, issues };
}

/**
 * Parses a `.json` file: a JSON array of objects (row numbers are 1-based
 * array positions), or, when the text is not an array, JSONL.
 */
export function parseJsonDocument(text: string): ParsedTable {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (!trimmed.startsWith('[')) return parseJsonl(text);
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    return { format: 'json', unit: 'row', rows: [], issues: [{ line: 0, message: `invalid JSON (${reason})` }] };
  }
  const rows: TableRow[] = [];
  const issues: TableIssue[] = [];
  (value as unknown[]).forEach((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      issues.push({ line: index + 1, message: 'expected a JSON object' });
    } else {
      rows.push({ line: index + 1, value: item as Record<string, unknown> });
    }
  });
  return { format: 'json', unit: 'row', rows, issues };
}
