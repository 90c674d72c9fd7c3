/**
 * `masa experiment paper-claims`: plans the runs, runs those the log does not
 * hold yet (one JSON file per finished run, written atomically, so an
 * interrupted experiment resumes where it stopped), then analyses the log and
 * writes the figures and the report. `reportOnly` redraws from the log alone.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { MasaError } from '@masa-rl/core';
import { writeFileAtomic } from '@masa-rl/datasets';
import { tinyEvaluationProblems } from '@masa-rl/trainer';
import { analyzePaperClaims, type PaperClaimsAnalysis, type PaperClaimsLog } from './analyze.js';
import { figureSpecs, renderSvg } from './figures.js';
import { planPaperClaims, type PaperClaimsBudget, type RunSpec } from './plan.js';
import { renderPaperClaimsReport, type ExperimentSettings } from './report.js';
import { evaluateBase, resolveRunConfig, runOne, type EvalPoint, type RunResult } from './run.js';

export interface RunPaperClaimsOptions {
  budget: PaperClaimsBudget;
  /** Repository root (the embedded config's model and datasets). */
  repoRoot: string;
  /** Log folder (`experiment.json`, `base.json`, `runs/*.json`). */
  logDir: string;
  /** Figures folder. */
  figuresDir: string;
  /** The report's path. */
  reportPath: string;
  /** Trainer run folders (scratch). @default a folder in the OS temp dir */
  workDir?: string;
  /** Discard a log that is already there instead of resuming it. @default false */
  fresh?: boolean;
  /** Only analyse the existing log and redraw. @default false */
  reportOnly?: boolean;
  /** The command line shown in the report. @default `pnpm masa experiment paper-claims` */
  command?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface PaperClaimsOutcome {
  analysis: PaperClaimsAnalysis;
  /** Runs done by this call (the rest came from the log). */
  ran: string[];
  reused: string[];
  files: string[];
}

interface ExperimentFile {
  version: 1;
  budget: PaperClaimsBudget;
  started: string;
  /** The machine the runs ran on (filled in by the first call that runs; kept by later ones). */
  machine?: Record<string, string | number>;
  /** The resolved trainer settings of the RL runs. */
  settings?: ExperimentSettings;
}

async function readJson<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error: unknown) {
    throw new MasaError('CHECKPOINT_INVALID', `experiment log file ${path} cannot be read (${(error as Error).message}); delete it (that run is redone) or pass --fresh`, { cause: error, details: { path } });
  }
}

/** Log, figures and report are written atomically; a failure names the file and suggests another --out. */
const write = (path: string, data: string): Promise<void> => writeFileAtomic(path, data, { alternative: 'or pass another --out' });
const writeJson = (path: string, value: unknown): Promise<void> => write(path, `${JSON.stringify(value, null, 1)}\n`);

/** Reads the runs the log holds (only those of the current plan). */
async function readRuns(logDir: string): Promise<Map<string, RunResult>> {
  const dir = join(logDir, 'runs');
  const runs = new Map<string, RunResult>();
  if (!existsSync(dir)) return runs;
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith('.json')) continue;
    const run = await readJson<RunResult>(join(dir, name));
    runs.set(run.spec.id, run);
  }
  return runs;
}

/** The machine running this call. */
function thisMachine(): Record<string, string | number> {
  return { cpu: cpus()[0]?.model.trim() ?? 'unknown', cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.version };
}

/** The trainer settings an RL run of the plan resolves to (the embedded config with the plan's overrides). */
function settingsOf(spec: RunSpec, repoRoot: string, workDir: string): ExperimentSettings {
  const { config } = resolveRunConfig(spec, repoRoot, join(workDir, 'settings'));
  return {
    trainBatchSize: config.data.train_batch_size,
    rolloutN: config.actor_rollout_ref.rollout.n,
    lr: config.actor_rollout_ref.actor.optim.lr,
    metaN: config.masa.meta_n,
    gatingStd: config.masa.gating_std,
    cutoffFactor: config.masa.cutoff_factor,
    auditFraction: config.masa.gating_audit_fraction,
    maxResponseLength: config.data.max_response_length,
  };
}

/** When and how long it ran, from the runs' own records. */
function timesOf(started: string, runs: readonly RunResult[]): Record<string, string | number> {
  const loads = runs.flatMap((run) => [run.load.start, run.load.end]);
  const finished = runs.map((run) => run.finishedAt).sort().at(-1) ?? started;
  return {
    started,
    finished,
    // Sum of the runs' own durations (evaluations included): a resumed experiment does not count the pause.
    wallMinutes: (runs.reduce((sum, run) => sum + Date.parse(run.finishedAt) - Date.parse(run.startedAt), 0) / 60_000).toFixed(0),
    loadRange: loads.length === 0 ? 'n/a' : `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  };
}

/** Runs (or resumes) the experiment and writes the report. */
export async function runPaperClaims(options: RunPaperClaimsOptions): Promise<PaperClaimsOutcome> {
  const { budget, repoRoot, fresh = false, reportOnly = false, log = () => {}, signal } = options;
  const logDir = resolve(options.logDir);
  const figuresDir = resolve(options.figuresDir);
  const reportPath = resolve(options.reportPath);
  const plan = planPaperClaims(budget);
  const experimentPath = join(logDir, 'experiment.json');

  if (fresh && !reportOnly) await rm(logDir, { recursive: true, force: true });
  let experiment: ExperimentFile;
  if (existsSync(experimentPath)) {
    experiment = await readJson<ExperimentFile>(experimentPath);
    if (!isDeepStrictEqual(experiment.budget, JSON.parse(JSON.stringify(budget)))) {
      throw new MasaError(
        'CONFIG_INVALID',
        `the log in ${logDir} was written with the "${experiment.budget.name}" budget, which differs from the "${budget.name}" budget asked for; pass --fresh to start over, or another --out`,
        { details: { logDir } },
      );
    }
  } else if (reportOnly) {
    throw new MasaError('FILE_NOT_FOUND', `no experiment log in ${logDir}; run the experiment first (without --report-only)`, { details: { logDir } });
  } else {
    experiment = { version: 1, budget, started: new Date().toISOString() };
    await mkdir(join(logDir, 'runs'), { recursive: true });
    await writeJson(experimentPath, experiment);
  }

  const problems = tinyEvaluationProblems().slice(0, budget.evalProblems);
  const basePath = join(logDir, 'base.json');
  const workDir = options.workDir ?? join(tmpdir(), `masa-paper-claims-${process.pid}`);
  if (!reportOnly && (experiment.machine === undefined || experiment.settings === undefined)) {
    const rl = plan.find((spec) => spec.group === 'main' && spec.method === 'masa-efficient') ?? (plan[0] as RunSpec);
    experiment = { ...experiment, machine: experiment.machine ?? thisMachine(), settings: experiment.settings ?? settingsOf(rl, repoRoot, workDir) };
    await writeJson(experimentPath, experiment);
  }
  const ran: string[] = [];
  const reused: string[] = [];
  try {
    let base: EvalPoint;
    if (existsSync(basePath)) base = await readJson<EvalPoint>(basePath);
    else if (reportOnly) throw new MasaError('FILE_NOT_FOUND', `${basePath} is missing; rerun without --report-only`, { details: { path: basePath } });
    else {
      log(`evaluating the starting checkpoint on ${problems.length} problems × ${budget.finalSamples} …`);
      base = await evaluateBase({ repoRoot, workDir, problems, samples: budget.finalSamples, ...(signal === undefined ? {} : { signal }) });
      await writeJson(basePath, base);
      log(`start: held-out accuracy ${(100 * base.accuracy).toFixed(1)}%, meta MAE ${base.meta?.passRateMae?.toFixed(2) ?? 'n/a'}`);
    }

    const logged = await readRuns(logDir);
    const runs: RunResult[] = [];
    for (const [index, spec] of plan.entries()) {
      const previous = logged.get(spec.id);
      if (previous !== undefined && isDeepStrictEqual(previous.spec, spec)) {
        runs.push(previous);
        reused.push(spec.id);
        continue;
      }
      if (reportOnly) throw new MasaError('FILE_NOT_FOUND', `the log has no finished run ${spec.id}; rerun without --report-only to finish the experiment`, { details: { run: spec.id } });
      log(`run ${index + 1}/${plan.length}: ${spec.id} (${spec.steps} ${spec.method === 'sft' ? 'SFT' : 'RL'} steps)`);
      const result = await runOne(spec, { repoRoot, workDir, problems, evalSamples: budget.evalSamples, finalSamples: budget.finalSamples, base, log, ...(signal === undefined ? {} : { signal }) });
      await writeJson(join(logDir, 'runs', `${spec.id}.json`), result);
      runs.push(result);
      ran.push(spec.id);
    }

    if (experiment.machine === undefined || experiment.settings === undefined) {
      throw new MasaError('CHECKPOINT_INVALID', `${experimentPath} holds no machine or settings; rerun without --report-only to record them`, { details: { path: experimentPath } });
    }
    const machine = { ...experiment.machine, ...timesOf(experiment.started, runs) };
    const analysis = analyzePaperClaims({ budget, machine, base, runs } satisfies PaperClaimsLog);
    await writeJson(join(logDir, 'analysis.json'), analysis);
    const files: string[] = [join(logDir, 'analysis.json')];
    await mkdir(figuresDir, { recursive: true });
    for (const [name, spec] of Object.entries(figureSpecs(analysis))) {
      const path = join(figuresDir, name);
      await write(path, await renderSvg(spec));
      files.push(path);
    }
    const relativeTo = (path: string): string => relative(dirname(reportPath), path).split('\\').join('/') || '.';
    await mkdir(dirname(reportPath), { recursive: true });
    await write(
      reportPath,
      renderPaperClaimsReport({
        analysis,
        machine,
        settings: experiment.settings,
        figuresDir: relativeTo(figuresDir),
        logDir: relativeTo(logDir),
        command: options.command ?? 'pnpm masa experiment paper-claims',
      }),
    );
    files.push(reportPath);
    return { analysis, ran, reused, files };
  } finally {
    if (options.workDir === undefined) await rm(workDir, { recursive: true, force: true });
  }
}
