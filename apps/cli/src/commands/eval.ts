import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { MasaError, type GradeVerdict, type Problem, type SampleScore } from '@masa-rl/core';
import { loadDataset, type LoadedDataset } from '@masa-rl/datasets';
import {
  createGradePool,
  gradeCode,
  GRADING_MODES,
  renderSummaryMarkdown,
  summarizeDataset,
  summarizeScores,
  type GradeRequest,
  type GradingMode,
  type ScoredProblem,
} from '@masa-rl/scoring';
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
   * Environment (`MASA_DATASETS_DIR`).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Test seams. */
  _internal?: {
    /** Stand-in for `@masa-rl/datasets` loadDataset. */
    loadDataset?: (name: string, options: { datasetsDir?: string }) => Promise<LoadedDataset>;
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

/** Writes a file atomically (temp file beside it, then rename). */
async function writeAtomic(path: string, data: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error: unknown) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new MasaError('FILE_WRITE_FAILED', `could not write ${path} (${String(error)}): check the folder is writable or pass another --out`, {
      cause: error,
      details: { path },
    });
  }
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

function tests(problem: Problem): string[] {
  const value = problem.meta?.['tests'];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new MasaError('DATASET_INVALID', `problem ${problem.id} has no meta.tests (list of asserts): code grading needs them (check the dataset file)`);
  }
  return value as string[];
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

  const kind = info.answerKind;
  const logic = info.domain === 'logic';
  const pool = kind === 'code' ? undefined : createGradePool(flags.workers === undefined ? { deadlineMs: flags.deadlineMs } : { deadlineMs: flags.deadlineMs, size: flags.workers });
  const samples: SampleScore[] = [];
  const scored: ScoredProblem[] = [];
  const start = performance.now();
  try {
    const jobs: Array<{ problem: Problem; index: number; verdict: Promise<GradeVerdict> }> = [];
    let codeChain: Promise<unknown> = Promise.resolve();
    for (const [id, list] of responses) {
      const problem = byProblemId.get(id) as Problem;
      list.forEach((response, index) => {
        let verdict: Promise<GradeVerdict>;
        if (kind === 'code') {
          // One sandboxed program at a time: the machine may have a single core.
          const run = codeChain.then(() => gradeCode({ response, tests: tests(problem), mode: flags.mode }));
          codeChain = run.catch(() => undefined);
          verdict = run;
        } else {
          const request: GradeRequest = { kind, gold: problem.answer, response, mode: flags.mode, logic };
          if (problem.choices !== undefined) request.labels = problem.choices.map((choice) => choice.label).join('');
          verdict = (pool as NonNullable<typeof pool>).grade(request);
        }
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
    await pool?.close();
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
  await writeAtomic(join(outDir, 'scores.jsonl'), samples.map((sample) => `${JSON.stringify(sample)}\n`).join(''));
  await writeAtomic(join(outDir, 'summary.json'), `${JSON.stringify({ responses: flags.responses, ...summary }, null, 2)}\n`);
  await writeAtomic(join(outDir, 'summary.md'), `# ${info.title} (${info.name}) — ${flags.mode}\n\nResponses: ${flags.responses}\n\n${markdown}`);
  if (flags.json === true) out(`${JSON.stringify(summary)}\n`);
  else out(markdown);
  err(`graded ${samples.length} responses to ${responses.size} problems in ${((performance.now() - start) / 1000).toFixed(1)} s; wrote ${join(outDir, 'scores.jsonl')}, summary.md, summary.json\n`);
}

/**
 * `masa eval`: evaluation. `masa eval score` grades recorded responses;
 * generation (`masa eval run`) arrives with issue 5.
 */
export function createEvalCommand(options: EvalCommandOptions = {}): Command {
  const command = new Command('eval').description('Evaluate models on the bundled benchmarks');
  command
    .command('score')
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
