import { isAbsolute, resolve } from 'node:path';
import { MasaError, type Problem } from '@masa-rl/core';
import {
  buildPrompt,
  DATASET_PRESETS,
  getPreset,
  listDatasets,
  loadDataset,
  loadGpqaCsv,
  prepareDataset,
  prepareHubDataset,
  TABLE_FORMATS,
  verifyDatasets,
  writeProblemsJsonl,
  type DatasetInfo,
  type FieldMapping,
  type LoadedDataset,
  type TableFormat,
} from '@masa-rl/datasets';
import { Command, Option } from 'commander';

/** Where the command writes and what it reads from its surroundings (test seams). */
export interface DataCommandOptions {
  /**
   * Data output (tables, NDJSON).
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Progress and summaries.
   * @default process.stderr
   */
  stderr?: { write(text: string): unknown };
  /**
   * Directory relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * Environment (`MASA_DATASETS_DIR`, `HF_TOKEN`).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Test seams. */
  _internal?: { fetch?: typeof fetch };
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  path: (path: string) => string;
  datasetsDir: (flag: string | undefined) => { datasetsDir?: string };
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch | undefined;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1) {
    throw new MasaError('ARGUMENT_INVALID', `--limit must be a positive integer, got "${value}"`, { details: { limit: value } });
  }
  return parsed;
}

/** A short license for the table: the text before the first parenthesis. */
function shortLicense(license: string): string {
  return license.split(' (')[0] ?? license;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n') + '\n';
}

function listAction(io: Io, flags: { json?: boolean; datasetsDir?: string }): void {
  const datasets = listDatasets(io.datasetsDir(flags.datasetsDir));
  if (flags.json === true) {
    for (const info of datasets) io.out(`${JSON.stringify(info)}\n`);
    return;
  }
  const rows = [['name', 'domain', 'rows', 'answer', 'license', 'aliases']];
  for (const info of datasets) {
    rows.push([
      info.name,
      info.domain,
      info.rows === null ? 'not bundled' : String(info.rows),
      info.answerKind,
      shortLicense(info.license),
      info.aliases.join(', '),
    ]);
  }
  io.out(table(rows));
  io.err('Datasets marked "not bundled" need a local copy: masa data show NAME explains how to get one.\n');
}

interface ShowFlags {
  limit: number;
  json?: boolean;
  prompt?: boolean;
  parity?: boolean;
  file?: string;
  gpqaCsv?: string;
  datasetsDir?: string;
}

function describeProblem(problem: Problem, index: number, total: number): string {
  const lines = [`[${index + 1}/${total}] ${problem.id}`, `question: ${problem.question}`];
  if (problem.choices !== undefined) for (const choice of problem.choices) lines.push(`  ${choice.label}) ${choice.text}`);
  lines.push(`answer: ${problem.answer}`);
  return lines.join('\n');
}

async function showAction(io: Io, name: string, flags: ShowFlags): Promise<void> {
  const registry = io.datasetsDir(flags.datasetsDir);
  let loaded: LoadedDataset;
  if (flags.gpqaCsv !== undefined) {
    loaded = await loadGpqaCsv(io.path(flags.gpqaCsv), { ...registry, limit: flags.limit, ...(flags.parity === true ? { parity: true } : {}) });
  } else {
    loaded = await loadDataset(name, { ...registry, limit: flags.limit, ...(flags.file === undefined ? {} : { file: io.path(flags.file) }) });
  }
  const { info, problems } = loaded;
  const options = { parity: flags.parity === true };
  if (flags.json === true) {
    for (const problem of problems) {
      io.out(`${JSON.stringify(flags.prompt === true ? { problem, prompt: buildPrompt(problem, info, options) } : problem)}\n`);
    }
    return;
  }
  io.out(`${info.name}: ${info.title} · ${info.domain} · ${info.rows ?? '?'} problems · answer kind ${info.answerKind} · template ${info.template}${flags.parity === true ? ' (parity)' : ''}\n`);
  io.out(`license: ${info.license}\nsource: ${info.source}\n`);
  if (info.notes !== '') io.out(`notes: ${info.notes}\n`);
  problems.forEach((problem, index) => {
    io.out(`\n${describeProblem(problem, index, problems.length)}\n`);
    if (flags.prompt === true) {
      for (const message of buildPrompt(problem, info, options)) io.out(`--- prompt (${message.role}) ---\n${message.content}\n--- end of prompt ---\n`);
    }
  });
}

interface PrepareFlags {
  input?: string;
  hf?: string;
  gpqaCsv?: string;
  preset?: string;
  format?: TableFormat;
  config?: string;
  split?: string;
  revision?: string;
  hfToken?: string;
  questionField?: string;
  answerField?: string;
  idField?: string;
  choicesField?: string;
  keepLabels?: boolean;
  parity?: boolean;
  output: string;
}

async function prepareAction(io: Io, flags: PrepareFlags): Promise<void> {
  const sources = [flags.input, flags.hf, flags.gpqaCsv].filter((source) => source !== undefined);
  const preset = flags.preset === undefined ? undefined : getPreset(flags.preset);
  if (sources.length > 1) {
    throw new MasaError('ARGUMENT_INVALID', 'pass only one of --input FILE, --hf DATASET_ID and --gpqa-csv PATH', { details: {} });
  }
  if (sources.length === 0 && preset === undefined) {
    throw new MasaError('ARGUMENT_INVALID', 'nothing to convert: pass --input FILE, --hf DATASET_ID (e.g. with --preset deepscaler) or --gpqa-csv PATH', {
      details: {},
    });
  }
  if (!flags.output.endsWith('.jsonl')) {
    throw new MasaError('ARGUMENT_INVALID', `--output must name a .jsonl file, got "${flags.output}"`, { details: { output: flags.output } });
  }
  const output = io.path(flags.output);
  const mapping: FieldMapping = { ...(preset?.mapping ?? {}) };
  if (flags.questionField !== undefined) mapping.questionField = flags.questionField;
  if (flags.answerField !== undefined) mapping.answerField = flags.answerField;
  if (flags.idField !== undefined) mapping.idField = flags.idField;
  if (flags.choicesField !== undefined) mapping.choicesField = flags.choicesField;
  if (flags.keepLabels === true) mapping.letterLabels = false;

  let problems: Problem[];
  let from: string;
  try {
    if (flags.gpqaCsv !== undefined) {
      const path = io.path(flags.gpqaCsv);
      problems = (await loadGpqaCsv(path, flags.parity === true ? { parity: true } : {})).problems;
      from = `${path} (GPQA, ${flags.parity === true ? 'parity shuffle: answer always D' : 'per-question shuffle'})`;
    } else if (flags.input !== undefined) {
      const path = io.path(flags.input);
      const result = await prepareDataset({ input: path, ...(flags.format === undefined ? {} : { format: flags.format }), ...mapping });
      problems = result.problems;
      from = `${path} (${result.layout})`;
    } else {
      const datasetId = flags.hf ?? (preset?.hfDataset as string);
      const config = flags.config ?? (flags.hf === undefined || flags.hf === preset?.hfDataset ? preset?.config : undefined);
      const split = flags.split ?? (flags.hf === undefined || flags.hf === preset?.hfDataset ? preset?.split : undefined);
      const token = flags.hfToken ?? io.env['HF_TOKEN'];
      io.err(`downloading ${datasetId}${config === undefined ? '' : ` (config ${config})`}${split === undefined ? '' : ` split ${split}`} from the Hugging Face Hub…\n`);
      const result = await prepareHubDataset({
        datasetId,
        ...(config === undefined ? {} : { config }),
        ...(split === undefined ? {} : { split }),
        ...(flags.revision === undefined ? {} : { revision: flags.revision }),
        ...(token === undefined || token === '' ? {} : { accessToken: token }),
        ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
        ...mapping,
      });
      problems = result.problems;
      from = `${datasetId}: ${result.files.join(', ')} (${result.layout})`;
    }
  } catch (error: unknown) {
    // The error message lists at most 50 issues; print every one first.
    const lines = MasaError.hasCode(error, 'DATASET_INVALID') ? error.details['lines'] : undefined;
    if (Array.isArray(lines) && lines.length > 50) for (const line of lines) io.err(`${String(line)}\n`);
    throw error;
  }
  await writeProblemsJsonl(output, problems);
  const next = preset === undefined ? '' : ` Use it with --file ${flags.output} (dataset ${preset.dataset}).`;
  io.err(`wrote ${problems.length} problems to ${output} from ${from}.${next}\n`);
}

async function verifyAction(io: Io, flags: { json?: boolean; datasetsDir?: string }): Promise<void> {
  const checks = await verifyDatasets(io.datasetsDir(flags.datasetsDir));
  if (flags.json === true) for (const check of checks) io.out(`${JSON.stringify(check)}\n`);
  else for (const check of checks) io.out(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.path}${check.expected.rows === null ? '' : `  ${check.expected.rows} rows`}\n`);
  const failed = checks.filter((check) => !check.ok);
  if (failed.length > 0) {
    throw new MasaError('DATASET_INVALID', `${failed.length} bundled file(s) differ from datasets/manifest.json (${failed.map((check) => check.path).join(', ')}): restore them with git checkout -- datasets`, {
      details: { failed: failed.map((check) => check.path) },
    });
  }
}

function describeKnown(datasets: readonly DatasetInfo[]): string {
  return datasets.map((info) => info.name).join(', ');
}

/**
 * `masa data`: list, show, prepare and verify datasets.
 *
 * - `masa data list [--json]`
 * - `masa data show NAME [--limit 3] [--json] [--prompt] [--parity] [--file PATH] [--gpqa-csv PATH]`
 * - `masa data prepare (--input FILE | --hf ID | --gpqa-csv PATH | --preset NAME) --output FILE.jsonl [field flags]`
 * - `masa data verify [--json]`
 */
export function createDataCommand(options: DataCommandOptions = {}): Command {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const io: Io = {
    out: (text) => void stdout.write(text),
    err: (text) => void stderr.write(text),
    path: (path) => (isAbsolute(path) ? path : resolve(cwd, path)),
    datasetsDir: (flag) => {
      const chosen = flag ?? env['MASA_DATASETS_DIR'];
      return chosen === undefined || chosen === '' ? {} : { datasetsDir: isAbsolute(chosen) ? chosen : resolve(cwd, chosen) };
    },
    env,
    fetch: options._internal?.fetch,
  };
  const datasetsDirOption = () => new Option('--datasets-dir <dir>', 'folder of bundled datasets (default: MASA_DATASETS_DIR, else the repository datasets/)');

  const data = new Command('data').description('List, inspect, verify and prepare datasets (bundled benchmarks, your own files, Hugging Face Hub datasets).');

  data
    .command('list')
    .description('List the registered datasets: name, domain, rows, answer kind, license.')
    .option('--json', 'one JSON object per dataset (NDJSON)')
    .addOption(datasetsDirOption())
    .action((flags: { json?: boolean; datasetsDir?: string }) => listAction(io, flags));

  data
    .command('show')
    .description('Print the first problems of a dataset, optionally with their prompts.')
    .argument('<name>', 'dataset name or alias (masa data list)')
    .addOption(new Option('--limit <n>', 'number of problems').default(3).argParser(positiveInteger))
    .option('--json', 'one JSON object per problem (NDJSON); with --prompt, {problem, prompt}')
    .option('--prompt', 'also print the chat prompt built for each problem')
    .option('--parity', "the MASA reference's prompts (and GPQA shuffle) instead of the corrected ones")
    .option('--file <path>', 'a prepared copy of the dataset (needed for datasets that are not bundled)')
    .option('--gpqa-csv <path>', 'the official GPQA CSV (gpqa_diamond.csv), for gpqa_diamond')
    .addOption(datasetsDirOption())
    .action((name: string, flags: ShowFlags) => showAction(io, name, flags));

  data
    .command('prepare')
    .description('Convert a dataset (local JSONL/JSON/CSV/parquet incl. verl parquet, a Hugging Face Hub dataset, or the GPQA CSV) into masa-rl JSONL.')
    .option('--input <file>', 'local file to convert')
    .option('--hf <dataset-id>', 'Hugging Face dataset to download, e.g. agentica-org/DeepScaleR-Preview-Dataset')
    .option('--gpqa-csv <path>', 'the official GPQA CSV (options shuffled per question; --parity for the reference order)')
    .addOption(new Option('--preset <name>', `field mapping and Hub location of a known dataset (${Object.keys(DATASET_PRESETS).join(', ')})`))
    .addOption(new Option('--format <format>', 'format of --input (default: from its extension)').choices([...TABLE_FORMATS]))
    .option('--config <name>', 'Hub config (subset), e.g. rbench-t_en')
    .option('--split <name>', 'Hub split, e.g. train or test')
    .option('--revision <rev>', 'Hub revision (default main; refs/convert/parquet for the parquet export)')
    .option('--hf-token <token>', 'Hub access token for gated datasets (default: HF_TOKEN)')
    .option('--question-field <field>', 'field with the question (default question; dotted paths allowed)')
    .option('--answer-field <field>', 'field with the gold answer (default answer)')
    .option('--id-field <field>', 'field with a unique id (default id, else the row index)')
    .option('--choices-field <field>', 'field with the options, or a comma-separated list of option columns (A,B,C,D)')
    .option('--keep-labels', 'keep numeric option labels (1-4) instead of mapping them to A-D')
    .option('--parity', 'with --gpqa-csv: the reference shuffle (correct answer always D)')
    .requiredOption('--output <file.jsonl>', 'where to write the converted problems (written atomically)')
    .action((flags: PrepareFlags) => prepareAction(io, flags));

  data
    .command('verify')
    .description('Check every bundled file against datasets/manifest.json (sha256, size, rows).')
    .option('--json', 'one JSON object per file (NDJSON)')
    .addOption(datasetsDirOption())
    .action((flags: { json?: boolean; datasetsDir?: string }) => verifyAction(io, flags));

  data.addHelpText('after', () => {
    try {
      return `\nDatasets: ${describeKnown(listDatasets(io.datasetsDir(undefined)))}`;
    } catch {
      return '';
    }
  });
  return data;
}
