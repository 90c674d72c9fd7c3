import { parquetReadObjects } from 'hyparquet';
import type { ParsedTable, TableRow } from './table.js';

/**
 * Turns parquet values into plain JSON values: INT64 `bigint` → number (or a
 * decimal string beyond 2^53), `Date` → ISO string, byte arrays → UTF-8 text.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, toJsonValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toJsonValue(item);
    return out;
  }
  return value;
}

/**
 * Reads every row of a parquet file (`hyparquet`; nested list/struct columns
 * such as verl's `prompt` and `reward_model` come back as arrays/objects).
 * Row numbers are 1-based.
 */
export async function parseParquet(bytes: ArrayBuffer): Promise<ParsedTable> {
  const objects = await parquetReadObjects({ file: bytes });
  const rows: TableRow[] = objects.map((object, index) => ({
    line: index + 1,
    value: toJsonValue(object) as Record<string, unknown>,
  }));
  return { format: 'parquet', unit: 'row', rows, issues: [] };
}
