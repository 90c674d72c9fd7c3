/**
 * Reads the gold answers of a bundled dataset for grader self-checks: from
 * the repository's `datasets/` folder, or from a staging folder when the
 * repository copy is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where bundled data files may live, in order of preference, relative to the repository root. */
function candidates(root: string, file: string): string[] {
  return [join(root, 'datasets', file), join('/work/shared/data', file)];
}

/** The `answer` field of every row of `<name>.jsonl`. */
export function readGolds(root: string, name: string): string[] {
  const file = `${name}.jsonl`;
  const path = candidates(root, file).find((candidate) => existsSync(candidate));
  if (path === undefined) throw new Error(`cannot find ${file} under ${join(root, 'datasets')}`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const row = JSON.parse(line) as { answer?: unknown };
      if (typeof row.answer !== 'string') throw new Error(`${path}: a row without a string answer`);
      return row.answer;
    });
}
