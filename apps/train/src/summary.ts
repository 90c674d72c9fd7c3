/**
 * The end-of-run summary, read back from the run folder (so it covers the
 * whole run, resumed parts included): accuracy and meta-calibration before
 * vs after, tokens saved, and where the run folder is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '@masa-rl/trainer';
import { META_STATS_FILE, type MetaStatsLine } from './meta-stats.js';

/** A value at the start of training and at the end. */
export interface BeforeAfter {
  before: number;
  after: number;
  /** Steps the two values come from (a window for training metrics). */
  beforeSteps: string;
  afterSteps: string;
}

export interface RunSummary {
  runDir: string;
  lastStep: number;
  /** Validation accuracy per validation set (step 0 or the first validation → the last). */
  validation: Array<{ name: string } & BeforeAfter>;
  /** Accuracy of the training rollouts (first steps → last steps). */
  trainAccuracy: BeforeAfter | null;
  /** Mean reward (first steps → last steps). */
  reward: BeforeAfter | null;
  /**
   * Held-out meta calibration per validation set, from the first and the last
   * validation records that have it (`val-meta/<set>/…`): pass-rate MAE in pass
   * counts out of 8 and Pearson correlation of predicted and true pass rates.
   */
  heldOutCalibration: Array<{ name: string; mae: BeforeAfter | null; pearson: BeforeAfter | null }>;
  /** Pass-rate MAE of meta predictions on the training batches, in rate units (first steps → last steps). */
  passRateMae: BeforeAfter | null;
  /** Pearson correlation of predicted and true pass rates. */
  passRatePearson: BeforeAfter | null;
  /** Meta prediction parse rate. */
  metaParseRate: BeforeAfter | null;
  tokensSaved: number;
  /** Solution tokens generated. */
  solutionTokens: number;
}

/** Reads the JSON lines of a file (a missing file is empty; a torn last line is skipped). */
export function readJsonLines<T>(path: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A torn line of a killed run.
    }
  }
  return out;
}

type Row = { step: number; value: number };

/** Mean of the first and of the last `window` values (window = ⌈n/4⌉, at most 5). */
export function beforeAfter(rows: readonly Row[]): BeforeAfter | null {
  const sorted = [...rows].filter((row) => Number.isFinite(row.value)).sort((a, b) => a.step - b.step);
  if (sorted.length === 0) return null;
  const window = Math.max(1, Math.min(5, Math.ceil(sorted.length / 4)));
  const head = sorted.slice(0, window);
  const tail = sorted.slice(-window);
  const mean = (part: readonly Row[]): number => part.reduce((sum, row) => sum + row.value, 0) / part.length;
  const label = (part: readonly Row[]): string => {
    const first = part[0]?.step ?? 0;
    const last = part.at(-1)?.step ?? 0;
    return first === last ? `step ${first}` : `steps ${first}–${last}`;
  };
  return { before: mean(head), after: mean(tail), beforeSteps: label(head), afterSteps: label(tail) };
}

/** Summarises a run folder. */
export function summarizeRun(runDir: string): RunSummary {
  const metrics = readJsonLines<Record<string, number>>(join(runDir, RUN_FILES.metrics)).filter((line) => typeof line['step'] === 'number');
  const stats = readJsonLines<MetaStatsLine>(join(runDir, META_STATS_FILE)).filter((line) => typeof line.step === 'number');
  const lastStep = Math.max(0, ...metrics.map((line) => line['step'] as number));
  const pick = (key: string): Row[] =>
    metrics.filter((line) => (line['step'] as number) > 0 && typeof line[key] === 'number').map((line) => ({ step: line['step'] as number, value: line[key] as number }));

  const validation: RunSummary['validation'] = [];
  const valKeys = new Set(metrics.flatMap((line) => Object.keys(line).filter((key) => key.startsWith('val-core/'))));
  for (const key of valKeys) {
    const rows = metrics.filter((line) => typeof line[key] === 'number').map((line) => ({ step: line['step'] as number, value: line[key] as number }));
    if (rows.length < 2) continue;
    const first = rows[0] as Row;
    const last = rows.at(-1) as Row;
    validation.push({ name: key.slice('val-core/'.length), before: first.value, after: last.value, beforeSteps: `step ${first.step}`, afterSteps: `step ${last.step}` });
  }
  const heldOutCalibration: RunSummary['heldOutCalibration'] = [];
  const firstLast = (key: string): BeforeAfter | null => {
    const rows = metrics.filter((line) => typeof line[key] === 'number' && Number.isFinite(line[key])).map((line) => ({ step: line['step'] as number, value: line[key] as number }));
    if (rows.length < 2) return null;
    const first = rows[0] as Row;
    const last = rows.at(-1) as Row;
    return { before: first.value, after: last.value, beforeSteps: `step ${first.step}`, afterSteps: `step ${last.step}` };
  };
  const valMetaSets = new Set(
    metrics.flatMap((line) => Object.keys(line).filter((key) => key.startsWith('val-meta/') && key.endsWith('/pass_rate_mae'))).map((key) => key.slice('val-meta/'.length, -'/pass_rate_mae'.length)),
  );
  for (const name of valMetaSets) {
    const mae = firstLast(`val-meta/${name}/pass_rate_mae`);
    const pearson = firstLast(`val-meta/${name}/pearson`);
    if (mae !== null || pearson !== null) heldOutCalibration.push({ name, mae, pearson });
  }
  const statRows = (value: (line: MetaStatsLine) => number | null | undefined): Row[] =>
    stats.flatMap((line) => {
      const v = value(line);
      return v === null || v === undefined ? [] : [{ step: line.step, value: v }];
    });
  const maeRows = statRows((line) => line.calibration?.mae);
  return {
    runDir,
    lastStep,
    validation,
    heldOutCalibration,
    trainAccuracy: beforeAfter(statRows((line) => line.accuracy)),
    reward: beforeAfter(pick('critic/score/mean')),
    passRateMae: beforeAfter(maeRows.length > 0 ? maeRows : pick('masa/pass_rate_mae')),
    passRatePearson: beforeAfter(statRows((line) => line.calibration?.pearson)),
    metaParseRate: beforeAfter(pick('masa/parse_rate')),
    tokensSaved: stats.reduce((sum, line) => sum + line.tokens.saved, 0),
    solutionTokens: stats.reduce((sum, line) => sum + line.tokens.solution, 0),
  };
}

const f = (value: number, digits: number): string => value.toFixed(digits);
const pct = (value: number): string => `${(100 * value).toFixed(1)}%`;

/** The summary as lines for the terminal. */
export function formatRunSummary(summary: RunSummary, options: { uiCommand: string }): string[] {
  const lines = [`done: ${summary.lastStep} steps`];
  const pair = (label: string, value: BeforeAfter | null, show: (n: number) => string): void => {
    if (value === null) return;
    lines.push(`  ${label.padEnd(24)} ${show(value.before)} → ${show(value.after)}   (${value.beforeSteps} → ${value.afterSteps})`);
  };
  for (const set of summary.validation) pair(`accuracy (${set.name.replace(/\/reward\/mean@\d+$/, '')})`, set, pct);
  for (const set of summary.heldOutCalibration) {
    const parts: string[] = [];
    if (set.mae !== null) parts.push(`MAE ${f(set.mae.before, 2)} → ${f(set.mae.after, 2)} (pass counts of 8)`);
    if (set.pearson !== null) parts.push(`correlation ${f(set.pearson.before, 2)} → ${f(set.pearson.after, 2)}`);
    const steps = set.mae ?? set.pearson;
    lines.push(`  held-out calibration (validation, ${set.name}): ${parts.join(', ')}${steps === null ? '' : `   (${steps.beforeSteps} → ${steps.afterSteps})`}`);
  }
  pair('accuracy (training)', summary.trainAccuracy, pct);
  pair('reward', summary.reward, (n) => f(n, 3));
  pair('meta MAE (train batch)', summary.passRateMae, (n) => f(n, 3));
  pair('meta r (train batch)', summary.passRatePearson, (n) => f(n, 2));
  pair('meta parse rate', summary.metaParseRate, pct);
  if (summary.tokensSaved > 0 || summary.solutionTokens > 0) {
    const share = summary.tokensSaved + summary.solutionTokens === 0 ? 0 : summary.tokensSaved / (summary.tokensSaved + summary.solutionTokens);
    lines.push(`  ${'rollout tokens saved'.padEnd(24)} ${Math.round(summary.tokensSaved)} (${pct(share)} of the solution tokens an ungated run would generate)`);
  }
  lines.push(`run folder: ${summary.runDir}`);
  lines.push(`view it:    ${options.uiCommand}`);
  return lines;
}
