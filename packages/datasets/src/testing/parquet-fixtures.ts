// Test helper (not exported): writes small parquet files with hyparquet-writer,
// a devDependency, so the parquet paths are tested without committed binaries.
import { parquetWriteBuffer } from 'hyparquet-writer';

/** A flat parquet table of string columns (null cells allowed). */
export function flatParquet(columns: Record<string, (string | null)[]>): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: Object.entries(columns).map(([name, data]) => ({ name, data, type: 'STRING' as const })),
  });
}

export interface VerlFixtureRow {
  dataSource: string;
  messages: { role: string; content: string }[];
  /** A plain string, or `{target}` / `{answer}` (written as a struct with both columns, one null). */
  groundTruth: string | { target?: string; answer?: string; question?: string };
  index: bigint;
  level?: string;
}

const utf8 = (name: string) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const });

/**
 * A verl-format parquet file as verl's preprocessing writes it: `data_source`, `prompt`
 * (list<struct<content, role>>), `ability`, `reward_model` (struct<ground_truth, style>),
 * `extra_info` (struct<index: int64, split>), plus an optional `level` column.
 * `ground_truth` is a string column when every row's truth is a string, else a struct.
 */
export function verlParquet(rows: VerlFixtureRow[]): ArrayBuffer {
  const stringTruth = rows.every((row) => typeof row.groundTruth === 'string');
  const truthSchema = stringTruth
    ? [utf8('ground_truth')]
    : [{ name: 'ground_truth', repetition_type: 'OPTIONAL' as const, num_children: 3 }, utf8('target'), utf8('answer'), utf8('question')];
  const truthValue = (truth: VerlFixtureRow['groundTruth']): unknown =>
    typeof truth === 'string' ? truth : { target: truth.target ?? null, answer: truth.answer ?? null, question: truth.question ?? null };
  return parquetWriteBuffer({
    columnData: [
      { name: 'data_source', data: rows.map((row) => row.dataSource) },
      { name: 'prompt', data: rows.map((row) => row.messages) },
      { name: 'ability', data: rows.map(() => 'math') },
      { name: 'reward_model', data: rows.map((row) => ({ ground_truth: truthValue(row.groundTruth), style: 'rule' })) },
      { name: 'extra_info', data: rows.map((row) => ({ index: row.index, split: 'test' })) },
      { name: 'level', data: rows.map((row) => row.level ?? null) },
    ],
    schema: [
      { name: 'root', num_children: 6 },
      utf8('data_source'),
      { name: 'prompt', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
      utf8('content'),
      utf8('role'),
      utf8('ability'),
      { name: 'reward_model', repetition_type: 'OPTIONAL', num_children: 2 },
      ...truthSchema,
      utf8('style'),
      { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
      utf8('split'),
      utf8('level'),
    ],
  });
}
