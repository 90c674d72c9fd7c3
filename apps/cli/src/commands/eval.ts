import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError, type GradeVerdict, type Problem, type SampleScore } from '@masa-rl/core';
import { loadDataset, type LoadedDataset } from '@masa-rl/datasets';
import {
  checkResultsFolder,
  createEvaluationEngine,
  createSampleGrader,
  describeEvaluationModel,
  EVALUATION_BACKENDS,
  EVAL_DOMAINS,
  loadEvaluationDatasets,
  renderEvaluationMarkdown,
  resolveEvaluationConfig,
  runEvaluationIter,
  writeFileAtomic,
  type CreateEvaluationEngineOptions,
  type EvaluationBackend,
  type EvaluationEngine,
  type EvaluationEvent,
  type LoadEvaluationDatasetsOptions,
  type RunEvaluationOptions,
} from '@masa-rl/evaluation';
import {
  GRADING_MODES,
  renderSummaryMarkdown,
  summarizeDataset,
  summarizeScores,
  type GradingMode,
  type ScoredProblem,
} from '@masa-rl/scoring';
import { compactCount, findRepoRoot, formatDuration } from '@masa-rl/train-app';
import { Command, Option } from 'commander';

/** Where the command writes and what it reads from its surroundings (test seams). */
export interface EvalCommandOptions {
  /**
   * The summary table (or JSON with --json).
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Progress and warnings.
   * @default process.stderr
   */
  stderr?: { write(text: string): unknown };
  /**
   * Directory relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * Environment (`MASA_DATASETS_DIR`, `OPENAI_API_KEY`).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Is stderr a terminal (the progress bar)?
   * @default process.stderr.isTTY
   */
  isTTY?: boolean;
  /**
   * The command line, for the resume hint.
   * @default process.argv.slice(2)
   */
  argv?: readonly string[];
  /**
   * The repository root the default model `models/tiny-arith` is resolved against.
   * @default the folder holding pnpm-workspace.yaml above this file, else `cwd`
   */
  repoRoot?: string;
  /** Test seams. */
  _internal?: {
    /** Stand-in for `@masa-rl/datasets` loadDataset. */
    loadDataset?: (name: string, options: { datasetsDir?: string }) => Promise<LoadedDataset>;
    /** Stand-in for `createEvaluationEngine` (e.g. a scripted engine). */
    createEngine?: typeof createEvaluationEngine;
    /** Stand-in for `describeEvaluationModel` (what config.json records about the model, before it loads). */
    describeModel?: typeof describeEvaluationModel;
    /** Stand-in for `loadEvaluationDatasets`. */
    loadEvaluationDatasets?: typeof loadEvaluationDatasets;
    /** Replaces SIGINT: aborting it once requests a stop after the batch (the first Ctrl-C). */
    stopSignal?: AbortSignal;
    /** Replaces a second SIGINT: abort now. */
    abortSignal?: AbortSignal;
    /** Millisecond clock (ETA, tokens/s, plain-line throttling). */
    now?: () => number;
  };
}

interface ScoreFlags {
  responses: string;
  dataset: string;
  mode: GradingMode;
  out?: string;
  json?: boolean;
  ks: number[];
  deadlineMs: number;
  workers?: number;
  datasetsDir?: string;
}


function positiveInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < 1) throw new MasaError('ARGUMENT_INVALID', `${flag} must be a positive integer, got "${value}"`);
    return parsed;
  };
}

function parseKs(value: string): number[] {
  const ks = value.split(',').map((part) => part.trim());
  if (ks.length === 0 || ks.some((k) => !/^\d+$/.test(k) || Number(k) < 1)) {
    throw new MasaError('ARGUMENT_INVALID', `--ks must be a comma-separated list of positive integers like 1,8,32, got "${value}"`);
  }
  return ks.map(Number);
}

/**
 * Reads recorded responses: either one line per problem `{"id", "responses": [...]}`
 * or one line per response `{"id", "response"}` (lines of both kinds may mix;
 * responses of one id are kept in file order). Errors name the file and line.
 */
export function parseResponses(text: string, file: string, problems: ReadonlyMap<string, Problem>, dataset: string): Map<string, string[]> {
  const byId = new Map<string, string[]>();
  const sampleIds = [...problems.keys()].slice(0, 3).map((id) => `"${id}"`).join(', ');
  text.split('\n').forEach((raw, index) => {
    if (raw.trim().length === 0) return;
    const line = index + 1;
    const where = `${file}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error: unknown) {
      throw new MasaError('DATASET_INVALID', `${where}: not valid JSON (${(error as Error).message}); each line is {"id", "responses": [...]} or {"id", "response"}`, {
        cause: error,
        details: { file, line },
      });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new MasaError('DATASET_INVALID', `${where}: expected an object {"id", "responses": [...]} or {"id", "response"}`, { details: { file, line } });
    }
    const record = value as Record<string, unknown>;
    const rawId = record['id'];
    if (typeof rawId !== 'string' && typeof rawId !== 'number') {
      throw new MasaError('DATASET_INVALID', `${where}: "id" must be the problem id (a string), e.g. ${sampleIds}`, { details: { file, line } });
    }
    const id = String(rawId);
    if (!problems.has(id)) {
      throw new MasaError('DATASET_INVALID', `${where}: unknown problem id "${id}" for dataset ${dataset} (ids look like ${sampleIds}); check --dataset or the id`, {
        details: { file, line, id },
      });
    }
    let responses: string[];
    if (Array.isArray(record['responses'])) {
      const list = record['responses'];
      if (!list.every((item): item is string => typeof item === 'string')) {
        throw new MasaError('DATASET_INVALID', `${where}: "responses" must be a list of strings`, { details: { file, line } });
      }
      responses = list;
    } else if (typeof record['response'] === 'string') {
      responses = [record['response']];
    } else {
      throw new MasaError('DATASET_INVALID', `${where}: needs "responses" (a list of strings) or "response" (a string)`, { details: { file, line } });
    }
    const list = byId.get(id) ?? [];
    list.push(...responses);
    byId.set(id, list);
  });
  if (byId.size === 0) throw new MasaError('DATASET_INVALID', `${file} holds no responses: add lines like {"id": ${sampleIds.split(',')[0] ?? '"…"'}, "response": "…"}`);
  return byId;
}

async function scoreAction(options: EvalCommandOptions, flags: ScoreFlags): Promise<void> {
  const out = (text: string): void => void (options.stdout ?? process.stdout).write(text);
  const err = (text: string): void => void (options.stderr ?? process.stderr).write(text);
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const path = (value: string): string => (isAbsolute(value) ? value : resolve(cwd, value));
  const datasetsDir = flags.datasetsDir ?? env['MASA_DATASETS_DIR'];
  const load = options._internal?.loadDataset ?? loadDataset;
  const { info, problems } = await load(flags.dataset, datasetsDir === undefined ? {} : { datasetsDir: path(datasetsDir) });
  const byProblemId = new Map(problems.map((problem) => [problem.id, problem]));

  let text: string;
  try {
    text = await readFile(path(flags.responses), 'utf8');
  } catch (error: unknown) {
    throw new MasaError('FILE_NOT_FOUND', `cannot read --responses ${flags.responses}: check the path`, { cause: error, details: { path: path(flags.responses) } });
  }
  const responses = parseResponses(text, flags.responses, byProblemId, info.name);
  const missing = problems.length - responses.size;
  if (missing > 0) err(`note: ${missing} of ${problems.length} ${info.name} problems have no responses; pass@k covers the ${responses.size} that do\n`);

  // The same grading path as `masa eval` (math/choice through the worker pool, code through the sandbox).
  const grader = createSampleGrader({ mode: flags.mode, deadlineMs: flags.deadlineMs, ...(flags.workers === undefined ? {} : { workers: flags.workers }) });
  const samples: SampleScore[] = [];
  const scored: ScoredProblem[] = [];
  const start = performance.now();
  try {
    const jobs: Array<{ problem: Problem; index: number; verdict: Promise<GradeVerdict> }> = [];
    for (const [id, list] of responses) {
      const problem = byProblemId.get(id) as Problem;
      grader.grade(problem, info, list).forEach((verdict, index) => {
        verdict.catch(() => undefined);
        jobs.push({ problem, index, verdict });
      });
    }
    let done = 0;
    for (const job of jobs) {
      const verdict = await job.verdict;
      samples.push({ problemId: job.problem.id, sampleIndex: job.index, score: verdict.equal ? 1 : 0, verdict });
      done++;
      if (done % 500 === 0) err(`graded ${done}/${jobs.length}\n`);
    }
  } finally {
    await grader.close();
  }
  for (const [id] of responses) {
    const own = samples.filter((sample) => sample.problemId === id);
    scored.push({
      problemId: id,
      scores: own.map((sample) => sample.score),
      timeouts: own.filter((sample) => sample.verdict.status === 'timeout').length,
      errors: own.filter((sample) => sample.verdict.status === 'error').length,
    });
  }
  const datasetSummary = summarizeDataset({ dataset: info.name, domain: info.domain, mode: flags.mode, problems: scored, ks: flags.ks });
  const summary = summarizeScores([datasetSummary]);
  const markdown = renderSummaryMarkdown(summary);
  const outDir = path(flags.out ?? join('runs', 'eval', `${info.name}-${flags.mode}`));
  await writeFileAtomic(join(outDir, 'scores.jsonl'), samples.map((sample) => `${JSON.stringify(sample)}\n`).join(''));
  await writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify({ responses: flags.responses, ...summary }, null, 2)}\n`);
  await writeFileAtomic(join(outDir, 'summary.md'), `# ${info.title} (${info.name}) — ${flags.mode}\n\nResponses: ${flags.responses}\n\n${markdown}`);
  if (flags.json === true) out(`${JSON.stringify(summary)}\n`);
  else out(markdown);
  err(`graded ${samples.length} responses to ${responses.size} problems in ${((performance.now() - start) / 1000).toFixed(1)} s; wrote ${join(outDir, 'scores.jsonl')}, summary.md, summary.json\n`);
}

/** The model a bare `masa eval` evaluates (relative to the repository root). */
export const DEFAULT_EVAL_MODEL = 'models/tiny-arith';
/** The dataset of a `masa eval` without --dataset or --domain. */
export const DEFAULT_EVAL_DATASET = 'synthetic-arith-test';

interface RunFlags {
  model?: string;
  dataset?: string;
  domain?: string;
  n?: number;
  temperature?: number;
  topP?: number;
  maxNewTokens?: number;
  seed: number;
  backend: EvaluationBackend;
  baseUrl?: string;
  apiModel?: string;
  apiKey?: string;
  out?: string;
  parity?: boolean;
  mode: GradingMode;
  limit?: number;
  json?: boolean;
  quiet?: boolean;
  forceConfig?: boolean;
  gpqaCsv?: string;
  rbenchFile?: string;
  file?: string;
  datasetsDir?: string;
  batchProblems?: number;
  maxBatchSize: number;
  threads?: number;
  device?: 'cpu' | 'cuda';
  deadlineMs: number;
  workers?: number;
  ks: number[];
}

function numberFlag(flag: string, check: (value: number) => boolean, what: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || !check(parsed)) {
      throw new MasaError('ARGUMENT_INVALID', `${flag} must be ${what}, got "${value}"`, { details: { flag, value } });
    }
    return parsed;
  };
}




/** Quotes an argument for a shell when it needs it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

type RenderMode = 'tty' | 'plain' | 'json' | 'quiet';

interface EvalRenderer {
  onEvent(event: EvaluationEvent): void;
  /** A line for the person watching (stderr; above the bar on a TTY). */
  log(line: string): void;
  close(): void;
}

interface ProgressBar {
  start(total: number, value: number, payload: Record<string, string>): void;
  update(value: number, payload: Record<string, string>): void;
  stop(): void;
}

interface CliProgressModule {
  SingleBar: new (options: Record<string, unknown>, preset?: unknown) => ProgressBar;
  Presets: { shades_classic: unknown };
}

/**
 * Renders evaluation events: a bar (problems done / total, accuracy so far, tokens/s, ETA) on a TTY via
 * `cli-progress` (loaded only then; plain lines when it cannot be loaded), throttled plain lines
 * otherwise, NDJSON on stdout with --json, nothing but warnings with --quiet.
 */
async function createEvalRenderer(mode: RenderMode, stdout: { write(text: string): unknown }, stderr: { write(text: string): unknown }, now: () => number): Promise<EvalRenderer> {
  let bar: ProgressBar | undefined;
  let barStarted = false;
  if (mode === 'tty') {
    try {
      const module = (await import('cli-progress')) as unknown as CliProgressModule & { default?: CliProgressModule };
      const cliProgress = module.default ?? module;
      bar = new cliProgress.SingleBar(
        { format: ' {bar} {value}/{total} problems · {stats}', hideCursor: true, clearOnComplete: false, stream: process.stderr, fps: 5 },
        cliProgress.Presets.shades_classic,
      );
    } catch {
      mode = 'plain';
    }
  }
  let total = 0;
  let done = 0;
  let runCorrect = 0;
  let runSamples = 0;
  let runTokens = 0;
  let elapsedMs = 0;
  let startedDone = 0;
  let dataset = '';
  let lastPlain = Number.NEGATIVE_INFINITY;
  let lastPlainDone = -1;
  const stats = (): string => {
    const parts: string[] = [dataset];
    if (runSamples > 0) parts.push(`acc ${((100 * runCorrect) / runSamples).toFixed(1)}%`);
    const seconds = elapsedMs / 1000;
    if (seconds > 0 && runTokens > 0) parts.push(`${compactCount(runTokens / seconds)} tok/s`);
    const runDone = done - startedDone;
    parts.push(`ETA ${runDone > 0 ? formatDuration((seconds / runDone) * (total - done)) : '–'}`);
    return parts.join(' · ');
  };
  const log = (line: string): void => {
    if (mode === 'json' || mode === 'quiet') {
      stderr.write(`${line}\n`);
      return;
    }
    if (bar !== undefined && barStarted) {
      // cli-progress has no log-above for a single bar: clear the line, write, redraw.
      process.stderr.write(`\r\x1b[2K${line}\n`);
      bar.update(done, { stats: stats() });
    } else stderr.write(`${line}\n`);
  };
  const plainLine = (force: boolean): void => {
    const time = now();
    if (done === lastPlainDone || (!force && time - lastPlain < 2000)) return;
    lastPlain = time;
    lastPlainDone = done;
    stderr.write(`${done}/${total} problems · ${stats()}\n`);
  };
  return {
    onEvent(event) {
      if (mode === 'json') {
        stdout.write(`${JSON.stringify(event)}\n`);
        return;
      }
      switch (event.type) {
        case 'evaluation-start': {
          total = event.totalProblems;
          done = event.completedProblems;
          startedDone = done;
          const names = event.datasets.map((entry) => `${entry.name} (${entry.problems})`).join(', ');
          const s = event.config.sampling;
          if (mode !== 'quiet') {
            log(`masa eval: ${names}; n ${s.n}, temperature ${s.temperature}, top-p ${s.topP}, max new tokens ${s.maxNewTokens}, seed ${s.seed}; prompts ${event.config.prompt.mode}, grading ${event.config.grading.mode}`);
            log(`results: ${event.outDir}${done > 0 ? ` (resuming: ${done} of ${total} problems already finished)` : ''}`);
          }
          if (bar !== undefined) {
            bar.start(total, done, { stats: 'starting' });
            barStarted = true;
          }
          break;
        }
        case 'dataset-start':
          dataset = event.dataset;
          break;
        case 'generation-progress':
          runTokens = event.runTokens;
          elapsedMs = event.elapsedMs;
          bar?.update(done, { stats: stats() });
          break;
        case 'problem-end':
          done = event.done;
          runCorrect += event.correct;
          runSamples += event.samples;
          runTokens = event.runTokens;
          elapsedMs = event.elapsedMs;
          if (bar !== undefined) bar.update(done, { stats: stats() });
          else if (mode === 'plain') plainLine(event.runProblems === 1 || done === total);
          break;
        case 'dataset-end':
          if (mode === 'plain') plainLine(true);
          break;
        case 'warning':
          // A capped budget is expected (the tiny model's context is its whole budget): a note, not a warning.
          if (event.code === 'budget-capped') {
            if (mode !== 'quiet') log(`note: ${event.message}`);
          } else log(`warning: ${event.message}`);
          break;
        case 'evaluation-end':
          elapsedMs = event.elapsedMs;
          bar?.update(done, { stats: stats() });
          break;
        default:
          break;
      }
    },
    log,
    close() {
      if (bar !== undefined && barStarted) bar.stop();
      bar = undefined;
    },
  };
}

async function runAction(options: EvalCommandOptions, flags: RunFlags): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const now = options._internal?.now ?? (() => performance.now());
  const path = (value: string): string => (isAbsolute(value) ? value : resolve(cwd, value));
  const shown = (value: string): string => {
    const relativePath = relative(cwd, value);
    return relativePath === '' ? '.' : relativePath.startsWith('..') ? value : relativePath;
  };
  const mode: RenderMode = flags.json === true ? 'json' : flags.quiet === true ? 'quiet' : (options.isTTY ?? process.stderr.isTTY === true) ? 'tty' : 'plain';
  const note = (line: string): void => void stderr.write(`${line}\n`);

  // The model.
  let modelPath: string | undefined;
  if (flags.backend === 'ort') {
    if (flags.baseUrl !== undefined || flags.apiModel !== undefined) {
      throw new MasaError('ARGUMENT_INVALID', '--base-url and --api-model go with --backend openai; for a local folder pass --model DIR');
    }
    if (flags.model !== undefined) modelPath = path(flags.model);
    else {
      const root = options.repoRoot ?? findRepoRoot(dirname(fileURLToPath(import.meta.url))) ?? cwd;
      modelPath = join(root, DEFAULT_EVAL_MODEL);
      if (!existsSync(join(modelPath, 'config.json'))) {
        throw new MasaError(
          'MODEL_LOAD_FAILED',
          `the default model ${DEFAULT_EVAL_MODEL} is missing (${modelPath} has no config.json): create it with pnpm masa sft --recipe tiny (about 25 minutes on one core), or pass --model DIR`,
          { details: { path: modelPath } },
        );
      }
    }
  } else if (flags.model !== undefined) {
    throw new MasaError('ARGUMENT_INVALID', '--model is a local folder for --backend ort; with --backend openai name the served model with --api-model');
  }

  // The datasets.
  let dataset = flags.dataset;
  if (dataset === undefined && flags.domain === undefined) {
    dataset = DEFAULT_EVAL_DATASET;
    if (mode !== 'json' && mode !== 'quiet') note(`no --dataset or --domain: evaluating on ${DEFAULT_EVAL_DATASET} (the synthetic arithmetic test set)`);
  }
  const datasetsDir = flags.datasetsDir ?? env['MASA_DATASETS_DIR'];
  const loadOptions: LoadEvaluationDatasetsOptions = {
    ...(dataset === undefined ? {} : { dataset }),
    ...(flags.domain === undefined ? {} : { domain: flags.domain }),
    ...(datasetsDir === undefined ? {} : { datasetsDir: path(datasetsDir) }),
    ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    ...(flags.file === undefined ? {} : { file: path(flags.file) }),
    ...(flags.gpqaCsv === undefined ? {} : { gpqaCsv: path(flags.gpqaCsv) }),
    ...(flags.rbenchFile === undefined ? {} : { rbenchFile: path(flags.rbenchFile) }),
    parity: flags.parity === true,
  };
  const { datasets, skipped } = await (options._internal?.loadEvaluationDatasets ?? loadEvaluationDatasets)(loadOptions);
  for (const entry of skipped) note(`note: ${entry.name} left out: ${entry.reason}`);

  // The results folder: by default runs/eval/<model>/<dataset or domain>[-parity][-masa-parity].
  const modelName = (flags.backend === 'ort' ? basename(modelPath as string) : (flags.apiModel ?? 'model')).replace(/[^\w.@+-]+/g, '_');
  const label = `${dataset ?? flags.domain}${flags.parity === true ? '-parity' : ''}${flags.mode === 'masa-parity' ? '-masa-parity' : ''}`;
  const outDir = path(flags.out ?? join('runs', 'eval', modelName, label));

  const apiKey = flags.apiKey ?? (env['OPENAI_API_KEY'] === '' ? undefined : env['OPENAI_API_KEY']);
  const engineOptions: CreateEvaluationEngineOptions = {
    backend: flags.backend,
    maxBatchSize: flags.maxBatchSize,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(modelPath === undefined ? {} : { modelPath }),
    ...(flags.baseUrl === undefined ? {} : { baseUrl: flags.baseUrl }),
    ...(flags.apiModel === undefined ? {} : { apiModel: flags.apiModel }),
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(flags.device === undefined ? {} : { device: flags.device }),
  };
  const settings = {
    datasets,
    outDir,
    selection: dataset !== undefined ? { dataset } : { domain: flags.domain as string },
    seed: flags.seed,
    parity: flags.parity === true,
    gradingMode: flags.mode,
    deadlineMs: flags.deadlineMs,
    ks: flags.ks,
    ...(flags.n === undefined ? {} : { n: flags.n }),
    ...(flags.temperature === undefined ? {} : { temperature: flags.temperature }),
    ...(flags.topP === undefined ? {} : { topP: flags.topP }),
    ...(flags.maxNewTokens === undefined ? {} : { maxNewTokens: flags.maxNewTokens }),
    ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    ...(flags.batchProblems === undefined ? {} : { batchProblems: flags.batchProblems }),
    ...(flags.workers === undefined ? {} : { workers: flags.workers }),
  };
  // Refuse a results folder of another configuration before spending minutes on loading the model.
  const described = await (options._internal?.describeModel ?? describeEvaluationModel)(engineOptions);
  await checkResultsFolder({
    dir: outDir,
    forceConfig: flags.forceConfig === true,
    config: resolveEvaluationConfig({
      ...settings,
      model: described.model,
      promptFormat: described.promptFormat,
      ...(described.contextTokens === undefined ? {} : { contextTokens: described.contextTokens }),
    }),
  });

  const renderer = await createEvalRenderer(mode, stdout, stderr, now);
  const stop = new AbortController();
  const abort = new AbortController();
  const stopSignal = options._internal?.stopSignal ?? stop.signal;
  const abortSignal = options._internal?.abortSignal ?? abort.signal;
  const onSigint = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      renderer.log('stopping after the current batch (finished problems are saved); press Ctrl-C again to abort now');
    } else abort.abort();
  };
  const ownSignals = options._internal?.stopSignal === undefined;
  if (ownSignals) process.on('SIGINT', onSigint);
  const resumeCommand = `pnpm masa ${(options.argv ?? process.argv.slice(2)).map(shellQuote).join(' ')}`.trimEnd();

  if (mode !== 'json' && mode !== 'quiet') {
    renderer.log(flags.backend === 'ort' ? `loading ${shown(modelPath as string)} in an engine process …` : `using ${flags.apiModel ?? '?'} at ${flags.baseUrl ?? '?'}`);
  }
  let engine: EvaluationEngine | undefined;
  let started = false;
  let end: Extract<EvaluationEvent, { type: 'evaluation-end' }> | undefined;
  try {
    engine = await (options._internal?.createEngine ?? createEvaluationEngine)(engineOptions);
    const runOptions: RunEvaluationOptions = {
      ...settings,
      engine: engine.engine,
      model: engine.model,
      forceConfig: flags.forceConfig === true,
      stopSignal,
      signal: abortSignal,
      now,
      ...(engine.tokenizer === undefined ? {} : { tokenizer: engine.tokenizer }),
      ...(engine.contextTokens === undefined ? {} : { contextTokens: engine.contextTokens }),
    };
    for await (const event of runEvaluationIter(runOptions)) {
      if (event.type === 'evaluation-start') started = true;
      renderer.onEvent(event);
      if (event.type === 'evaluation-end') end = event;
    }
  } catch (error: unknown) {
    renderer.close();
    if (started) note(`finished problems are saved in ${shown(outDir)}; rerun to resume: ${resumeCommand}`);
    throw error;
  } finally {
    renderer.close();
    if (ownSignals) process.removeListener('SIGINT', onSigint);
    await engine?.close();
  }
  if (end === undefined) throw new MasaError('INTERNAL', 'the evaluation ended without a result');
  const result = end;
  if (mode !== 'json') {
    const config = (JSON.parse(await readFile(join(result.outDir, 'config.json'), 'utf8')) as Parameters<typeof renderEvaluationMarkdown>[1]);
    stdout.write(renderEvaluationMarkdown(result.summary, config));
    const seconds = result.elapsedMs / 1000;
    note(
      `${result.runProblems} problems in ${formatDuration(seconds)}${result.runTokens > 0 && seconds > 0 ? ` (${compactCount(result.runTokens / seconds)} tok/s)` : ''}; ` +
        `wrote ${shown(result.outDir)}/{config.json, responses.jsonl, scores.jsonl, summary.md, summary.json}`,
    );
  }
  if (result.status === 'stopped') {
    // Not a success: a script chaining `masa eval && …` must not go on with half the results.
    throw new MasaError(
      'ABORTED',
      `stopped: ${result.completedProblems} of ${result.totalProblems} problems finished and saved in ${shown(result.outDir)}; resume with: ${resumeCommand}`,
      { details: { outDir: result.outDir, completed: result.completedProblems, total: result.totalProblems } },
    );
  }
}

const RUN_DEFAULTS_HELP = `
Defaults:
  masa eval with no arguments evaluates ${DEFAULT_EVAL_MODEL} (resolved against the repository root;
  create it with pnpm masa sft --recipe tiny) on ${DEFAULT_EVAL_DATASET} with its own prompts
  (problem + newline): n 8, temperature 1, top-p 1, max new tokens 320 (capped at the model's
  context minus the prompt).
  Benchmarks (--dataset NAME, --domain D) use MASA's evaluation settings: n 32, temperature 0.6,
  top-p 1, max new tokens 16384 (n 1 at temperature 0), masa-rl's corrected prompts (--parity for
  the reference's) and the correct grader (--mode masa-parity for the reference's).
  Domains: math = aime2024 aime2025 amc23 math500 minerva olympiadbench; science = gpqa_diamond
  (with --gpqa-csv) rbench (with --rbench-file) arc_challenge scibench; logic = prontoqa proofwriter
  folio logical_deduction ar_lsat; coding = mbpp.

Results go to --out (default runs/eval/<model>/<dataset or domain>): config.json, responses.jsonl,
scores.jsonl, summary.md, summary.json. Rerunning the same command resumes (finished problems are
skipped); a different configuration is refused unless --force-config. Ctrl-C stops after the
current batch (twice: at once).

Recorded responses from elsewhere: masa eval score --responses FILE --dataset NAME.
`;

/**
 * `masa eval`: `masa eval [run]` generates, grades and summarises (resumable); `masa eval score`
 * grades recorded responses.
 */
export function createEvalCommand(options: EvalCommandOptions = {}): Command {
  // `run` is the default subcommand, so `masa eval --model …` and a bare `masa eval` run it. Help is
  // left to the subcommands: `masa eval --help` shows run's options and defaults.
  const command = new Command('eval').description('Evaluate models on the bundled benchmarks (masa eval [run] …, masa eval score …)').helpOption(false);
  command
    .command('run', { isDefault: true })
    .helpOption('-h, --help', 'display help for command')
    .usage('[options]   (the same as masa eval [options])')
    .description('Generate n samples per problem with a model, grade them, and write pass@k tables (resumable)')
    .option('--model <dir>', `Hugging Face model folder for the ORT backend (default: ${DEFAULT_EVAL_MODEL} in the repository)`)
    .option('--dataset <name>', `dataset name or alias, see masa data list (default: ${DEFAULT_EVAL_DATASET} unless --domain)`)
    .addOption(new Option('--domain <domain>', 'every dataset of a domain').choices([...EVAL_DOMAINS]))
    .option('--n <n>', 'samples per problem (default: 8 synthetic, 32 benchmarks)', numberFlag('--n', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'))
    .option('--temperature <t>', 'sampling temperature, 0 = greedy (default: 1 synthetic, 0.6 benchmarks)', numberFlag('--temperature', (v) => v >= 0, 'a number ≥ 0'))
    .option('--top-p <p>', 'nucleus mass (default: 1)', numberFlag('--top-p', (v) => v > 0 && v <= 1, 'a number in (0, 1]'))
    .option('--max-new-tokens <n>', 'token budget of a sample (default: 320 synthetic, 16384 benchmarks)', numberFlag('--max-new-tokens', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'))
    .option('--seed <n>', 'run seed (each problem samples with a seed derived from it and its id)', numberFlag('--seed', (v) => Number.isInteger(v), 'an integer'), 0)
    .addOption(new Option('--backend <backend>', 'ort (a local folder, ONNX Runtime) or openai (vLLM, SGLang, masa serve)').choices([...EVALUATION_BACKENDS]).default('ort'))
    .option('--base-url <url>', 'openai backend: API root, e.g. http://localhost:8000/v1')
    .option('--api-model <name>', 'openai backend: the model name on the server')
    .option('--api-key <key>', 'openai backend: bearer token (default: OPENAI_API_KEY; never written to the results)')
    .option('--out <dir>', 'results folder (default: runs/eval/<model>/<dataset or domain>[-parity][-masa-parity])')
    .option('--parity', "the MASA reference's prompts (bare math problems, literal \\n in logic options, ARC labels as given, GPQA answer always D)")
    .addOption(new Option('--mode <mode>', 'grader: correct (our policy) or masa-parity (the reference grader, bugs included)').choices([...GRADING_MODES]).default('correct'))
    .option('--limit <n>', 'first N problems of each dataset', numberFlag('--limit', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'))
    .option('--json', 'NDJSON events on stdout instead of the bar and the table')
    .option('--quiet', 'no progress, only warnings and the table')
    .option('--force-config', 'continue in a results folder whose config.json differs (finished problems keep their results)')
    .option('--file <path>', 'a prepared copy of --dataset (for datasets that are not bundled)')
    .option('--gpqa-csv <path>', 'the official GPQA CSV: adds gpqa_diamond')
    .option('--rbench-file <path>', 'a prepared R-Bench file (masa data prepare --preset rbench): adds rbench to --domain science')
    .option('--datasets-dir <dir>', 'folder of bundled datasets (default: MASA_DATASETS_DIR, else the repository datasets/)')
    .option('--batch-problems <n>', 'problems per engine call; Ctrl-C takes effect between calls (default: ceil(64 / n))', numberFlag('--batch-problems', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'))
    .option('--max-batch-size <n>', 'ort backend: sequences decoded together', numberFlag('--max-batch-size', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'), 32)
    .option('--threads <n>', 'ort backend: ONNX Runtime threads per operator (default 1; more pay off on idle cores only)', numberFlag('--threads', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'))
    .addOption(new Option('--device <device>', 'ort backend: execution device').choices(['cpu', 'cuda']))
    .option('--deadline-ms <ms>', 'deadline of one math/choice grade', positiveInteger('--deadline-ms'), 2000)
    .option('--workers <n>', 'grading worker threads (default: min(4, cores))', positiveInteger('--workers'))
    .addOption(new Option('--ks <list>', 'pass@k values to report').argParser(parseKs).default([1, 8, 32], '1,8,32'))
    .addHelpText('after', RUN_DEFAULTS_HELP)
    .action(async (flags: RunFlags) => runAction(options, flags));
  command
    .command('score')
    .helpOption('-h, --help', 'display help for command')
    .description('Grade recorded responses against a dataset and write per-sample scores and a pass@k summary')
    .requiredOption('--responses <file>', 'JSONL: {"id", "responses": [...]} or {"id", "response"} per line')
    .requiredOption('--dataset <name>', 'dataset name or alias (see masa data list)')
    .addOption(new Option('--mode <mode>', 'correct (our policy) or masa-parity (the reference grader, bugs included)').choices([...GRADING_MODES]).default('correct'))
    .option('--out <dir>', 'output folder for scores.jsonl, summary.md, summary.json (default: runs/eval/<dataset>-<mode>)')
    .option('--json', 'print the summary as one JSON object instead of the table')
    .addOption(new Option('--ks <list>', 'pass@k values to report').argParser(parseKs).default([1, 8, 32], '1,8,32'))
    .option('--deadline-ms <ms>', 'deadline of one grade', positiveInteger('--deadline-ms'), 2000)
    .option('--workers <n>', 'grading worker threads (default: min(4, cores))', positiveInteger('--workers'))
    .option('--datasets-dir <dir>', 'folder of bundled datasets (default: MASA_DATASETS_DIR, else the repository datasets/)')
    .action(async (flags: ScoreFlags) => scoreAction(options, flags));
  return command;
}
