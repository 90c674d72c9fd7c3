/**
 * Test helpers: read a run folder's metrics.jsonl and its TensorBoard event
 * files (with the independent reader), and apply TensorBoard's restart rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TENSORBOARD_DIR } from '../run-loggers.js';
import { readEventFile, type ReadEvent } from './tfrecord-reader.js';

/** metrics.jsonl as the trainer wrote it. */
export function metricsLines(runDir: string): Array<Record<string, number>> {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, number>);
}

/** The event files of a run in name order (their time order), decoded by the independent reader. */
export function eventFiles(runDir: string): ReadEvent[][] {
  const dir = join(runDir, TENSORBOARD_DIR);
  return readdirSync(dir)
    .sort()
    .map((name) => readEventFile(readFileSync(join(dir, name))));
}

/**
 * What TensorBoard shows, per step, following its documented rule: a `SessionLog.START` that is not
 * the first one of the run drops every point with a step ≥ its step (tensorboard#4763).
 */
export function shownScalars(files: ReadEvent[][]): Map<number, Record<string, number>> {
  const shown = new Map<number, Record<string, number>>();
  let starts = 0;
  for (const event of files.flat()) {
    if (event.sessionStatus === 1) {
      starts += 1;
      if (starts > 1) for (const step of [...shown.keys()]) if (step >= event.step) shown.delete(step);
    }
    if (event.scalars !== undefined) shown.set(event.step, { ...shown.get(event.step), ...Object.fromEntries(event.scalars) });
  }
  return shown;
}

/** A trainer metrics line as TensorBoard stores it: every number but `step`, rounded to float32. */
export const asFloat32 = (line: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(line).filter(([key]) => key !== 'step').map(([key, value]) => [key, Math.fround(value)]));

