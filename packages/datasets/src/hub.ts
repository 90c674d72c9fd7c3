import { MasaError, type Problem } from '@masa-rl/core';
import { assertNoIssues, convertTable, type PreparedDataset } from './prepare.js';
import { formatFromPath, parseTable } from './read-table.js';
import type { FieldMapping } from './rows-to-problems.js';
import { formatIssues, type ParsedTable, type TableFormat, type TableIssue } from './table.js';

/** Preference when one split exists in several formats. */
const FORMAT_RANK: Record<TableFormat, number> = { parquet: 0, jsonl: 1, json: 2, csv: 3 };
const NOT_DATA = /^(dataset_info|dataset_infos|dataset_dict|state)\.json$/i;

export interface HubDatasetOptions {
  /** Hugging Face dataset id, e.g. `agentica-org/DeepScaleR-Preview-Dataset`. */
  datasetId: string;
  /**
   * Config (subset) name: keeps files whose folder or name contains it.
   * @default none
   */
  config?: string;
  /**
   * Split: keeps files whose folder or name is the split (`test`, `train-00000-of-00002.parquet`, …).
   * When no file names it, a dataset with a single data file (or one set of shards) is used as is.
   * @default none (an error if several data files remain)
   */
  split?: string;
  /**
   * Git revision (branch, tag or commit), e.g. `refs/convert/parquet` for the Hub's parquet export.
   * @default 'main'
   */
  revision?: string;
  /**
   * Access token for gated or private datasets.
   * @default none
   */
  accessToken?: string;
  /**
   * The `fetch` to use (a test seam, or a proxy).
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * Hub address.
   * @default 'https://huggingface.co'
   */
  hubUrl?: string;
}

/** One downloaded data file. */
export interface HubDataFile {
  path: string;
  format: TableFormat;
  bytes: Uint8Array;
}

function networkError(datasetId: string, error: unknown): MasaError {
  const reason = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
  return new MasaError(
    'NETWORK_UNAVAILABLE',
    `could not download ${datasetId} from the Hugging Face Hub (${reason}). Download its data file on a machine with network access (https://huggingface.co/datasets/${datasetId}/tree/main) and convert the local copy with --input FILE instead of --hf`,
    { cause: error, details: { datasetId } },
  );
}

function hubError(datasetId: string, error: unknown): MasaError {
  if (MasaError.isInstance(error)) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (status === 401 || status === 403) {
    return new MasaError(
      'DATASET_NOT_FOUND',
      `the Hub refused access to ${datasetId} (HTTP ${status}): the dataset is gated or private; accept its terms on https://huggingface.co/datasets/${datasetId} and pass an access token (--hf-token or HF_TOKEN), or download it yourself and use --input FILE`,
      { cause: error, details: { datasetId, status } },
    );
  }
  if (status === 404) {
    return new MasaError('DATASET_NOT_FOUND', `the Hub has no dataset ${datasetId} (HTTP 404): check the id (owner/name) and --revision`, {
      cause: error,
      details: { datasetId, status },
    });
  }
  return networkError(datasetId, error);
}

function hasToken(path: string, token: string): boolean {
  const lower = token.toLowerCase();
  return path
    .toLowerCase()
    .split('/')
    .some((segment, index, all) => {
      if (segment === lower) return true;
      const name = index === all.length - 1 ? segment.replace(/\.[a-z]+$/, '') : segment;
      return name === lower || new RegExp(`(^|[-_.])${lower.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([-_.]|$)`).test(name);
    });
}

/**
 * Chooses the data files of one config and split from a repository listing: table files
 * only (parquet, jsonl, json, csv), filtered by config and split, in the best available
 * format; shards of one split are all kept, in path order.
 */
export function selectHubDataFiles(paths: readonly string[], options: { datasetId: string; config?: string; split?: string }): { path: string; format: TableFormat }[] {
  const { datasetId, config, split } = options;
  const all = paths
    .map((path) => ({ path, format: formatFromPath(path) }))
    .filter((file): file is { path: string; format: TableFormat } => file.format !== undefined && !NOT_DATA.test(file.path.split('/').pop() ?? ''));
  const listing = all.length === 0 ? '(none)' : all.map((file) => file.path).join(', ');
  if (all.length === 0) {
    throw new MasaError('DATASET_NOT_FOUND', `${datasetId} has no parquet, jsonl, json or csv files on the Hub; try --revision refs/convert/parquet, or download it yourself and use --input FILE`, {
      details: { datasetId },
    });
  }
  let candidates = all;
  if (config !== undefined) {
    candidates = candidates.filter((file) => hasToken(file.path, config));
    if (candidates.length === 0) {
      throw new MasaError('ARGUMENT_INVALID', `no data file of ${datasetId} matches --config ${config}; its data files are: ${listing}`, {
        details: { datasetId, config, files: all.map((file) => file.path) },
      });
    }
  }
  if (split !== undefined) {
    const matching = candidates.filter((file) => hasToken(file.path, split));
    // No file names the split: a dataset published as one file (or one set of shards) has only
    // that split, so keep the candidates; several distinct files are rejected below.
    if (matching.length > 0) candidates = matching;
  }
  const best = Math.min(...candidates.map((file) => FORMAT_RANK[file.format]));
  candidates = candidates.filter((file) => FORMAT_RANK[file.format] === best).sort((a, b) => (a.path < b.path ? -1 : 1));
  const folders = new Set(candidates.map((file) => file.path.replace(/-\d{5}-of-\d{5}/, '').replace(/\/\d+\.[a-z]+$/, '')));
  if (folders.size > 1) {
    throw new MasaError('ARGUMENT_INVALID', `several data files of ${datasetId} match (${candidates.map((file) => file.path).join(', ')}): pass a --split and/or --config that names one of them`, {
      details: { datasetId, files: candidates.map((file) => file.path) },
    });
  }
  return candidates;
}

/**
 * Lists a Hub dataset's files and downloads the data files of one config and split
 * (`@huggingface/hub`, loaded on first use). Network failures throw `NETWORK_UNAVAILABLE`
 * with the offline alternative (`--input FILE`).
 */
export async function downloadHubDataset(options: HubDatasetOptions): Promise<HubDataFile[]> {
  const { datasetId, revision, accessToken, hubUrl } = options;
  if (!/^[\w.-]+\/[\w.-]+$/.test(datasetId)) {
    throw new MasaError('ARGUMENT_INVALID', `"${datasetId}" is not a Hub dataset id: use owner/name, e.g. --hf agentica-org/DeepScaleR-Preview-Dataset`, {
      details: { datasetId },
    });
  }
  const hub = await import('@huggingface/hub');
  const repo = { type: 'dataset' as const, name: datasetId };
  const common = {
    repo,
    ...(revision === undefined ? {} : { revision }),
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(hubUrl === undefined ? {} : { hubUrl }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
  const paths: string[] = [];
  try {
    for await (const entry of hub.listFiles({ ...common, recursive: true })) if (entry.type === 'file') paths.push(entry.path);
  } catch (error: unknown) {
    throw hubError(datasetId, error);
  }
  const selected = selectHubDataFiles(paths, {
    datasetId,
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.split === undefined ? {} : { split: options.split }),
  });
  const files: HubDataFile[] = [];
  for (const file of selected) {
    let blob: Blob | null;
    try {
      blob = await hub.downloadFile({ ...common, path: file.path, xet: false });
      if (blob !== null) files.push({ ...file, bytes: new Uint8Array(await blob.arrayBuffer()) });
    } catch (error: unknown) {
      throw hubError(datasetId, error);
    }
    if (blob === null) {
      throw new MasaError('DATASET_NOT_FOUND', `${datasetId} lists ${file.path} but the Hub did not serve it: retry, or download it yourself and use --input FILE`, {
        details: { datasetId, path: file.path },
      });
    }
  }
  return files;
}

/**
 * Downloads a Hub dataset (see {@link downloadHubDataset}) and converts it like a local file:
 * shards are concatenated; malformed rows are reported by file and row.
 */
export async function prepareHubDataset(options: HubDatasetOptions & FieldMapping): Promise<PreparedDataset & { files: string[] }> {
  const { datasetId, config, split, revision, accessToken, fetch, hubUrl, ...mapping } = options;
  const files = await downloadHubDataset(options);
  const parsed: { path: string; table: ParsedTable }[] = [];
  for (const file of files) parsed.push({ path: file.path, table: await parseTable(file.bytes, file.format, `${datasetId}/${file.path}`) });
  if (parsed.length === 1) {
    const only = parsed[0] as { path: string; table: ParsedTable };
    const result = convertTable(only.table, mapping);
    assertNoIssues(`${datasetId}/${only.path}`, result);
    return { problems: result.problems, layout: result.layout, files: [only.path] };
  }
  const problems: Problem[] = [];
  const lines: string[] = [];
  const allIssues: { path: string; issues: TableIssue[] }[] = [];
  let layout: PreparedDataset['layout'] = 'parquet';
  let numberedByPosition = true;
  for (const { path, table } of parsed) {
    const result = convertTable(table, mapping);
    layout = result.layout;
    if (result.issues.length > 0) {
      allIssues.push({ path, issues: result.issues });
      lines.push(...formatIssues(`${datasetId}/${path}`, result.unit, result.issues));
    }
    if (!result.problems.every((problem, index) => problem.id === String(index))) numberedByPosition = false;
    problems.push(...result.problems);
  }
  if (lines.length > 0 || problems.length === 0) {
    const shown = lines.slice(0, 50);
    throw new MasaError(
      'DATASET_INVALID',
      `${datasetId}: ${lines.length === 0 ? 'no rows' : `${lines.length} problem(s) in its data files; map the right columns with --question-field/--answer-field/--id-field/--choices-field`}:\n  ${shown.join('\n  ')}${lines.length > shown.length ? `\n  … and ${lines.length - shown.length} more` : ''}`,
      { details: { datasetId, issues: allIssues, lines } },
    );
  }
  // Shards numbered by position each start at 0: renumber them as one sequence.
  if (parsed.length > 1 && numberedByPosition && mapping.idField === undefined) problems.forEach((problem, index) => (problem.id = String(index)));
  const ids = new Set<string>();
  for (const problem of problems) {
    if (ids.has(problem.id)) {
      throw new MasaError('DATASET_INVALID', `${datasetId}: id "${problem.id}" occurs in more than one data file; choose a unique column with --id-field`, {
        details: { datasetId, id: problem.id },
      });
    }
    ids.add(problem.id);
  }
  return { problems, layout, files: parsed.map((item) => item.path) };
}
