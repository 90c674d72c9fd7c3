import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MasaError, type Problem } from '@masa-rl/core';
import { parseJsonl } from './jsonl.js';
import { assertNoIssues, convertTable } from './prepare.js';
import { readTable } from './read-table.js';
import { findDataset, readManifest } from './registry.js';
import type { TableFormat } from './table.js';
import type { DatasetInfo, LoadedDataset, MbppShot, PromptAssets } from './types.js';

export interface LoadDatasetOptions {
  /**
   * Folder of bundled datasets (holding `manifest.json`).
   * @default found by walking up from this package (see `findDatasetsDir`)
   */
  datasetsDir?: string;
  /**
   * Keep only the first `limit` problems (a positive integer).
   * @default all problems
   */
  limit?: number;
  /**
   * Load this file instead of the bundled one, with the dataset's template and answer kind
   * (required for datasets that are not bundled, e.g. a prepared `deepscaler.jsonl`).
   * Uniform JSONL, JSON, CSV or parquet; verl parquet is detected.
   * @default the bundled file
   */
  file?: string;
  /**
   * Format of `file`.
   * @default from its extension
   */
  format?: TableFormat;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error: unknown) {
    throw new MasaError('FILE_NOT_FOUND', `cannot read ${what} ${path}: restore the datasets/ folder from git (git checkout -- datasets)`, {
      cause: error,
      details: { path },
    });
  }
}

function parseShots(text: string, path: string): MbppShot[] {
  const table = parseJsonl(text);
  const shots: MbppShot[] = [];
  const problems: string[] = table.issues.map((issue) => `line ${issue.line}: ${issue.message}`);
  for (const { line, value } of table.rows) {
    const { text: prompt, code, test_list: tests, task_id: taskId } = value;
    if (typeof prompt !== 'string' || typeof code !== 'string' || !Array.isArray(tests) || !tests.every((test) => typeof test === 'string')) {
      problems.push(`line ${line}: expected text, code (strings) and test_list (list of strings)`);
      continue;
    }
    const shot: MbppShot = { text: prompt, code, test_list: tests as string[] };
    if (typeof taskId === 'number') shot.task_id = taskId;
    shots.push(shot);
  }
  if (problems.length > 0) {
    throw new MasaError('DATASET_INVALID', `${path}: ${problems.join('; ')} (restore it with git checkout -- datasets)`, { details: { path } });
  }
  return shots;
}

/** Reads the template files a dataset's prompt needs (logic template text, MBPP shots). */
export async function loadPromptAssets(info: DatasetInfo, datasetsDir: string): Promise<PromptAssets | undefined> {
  const files = info.promptAssetFiles;
  if (files === undefined) return undefined;
  const assets: PromptAssets = {};
  if (files.iclTemplate !== undefined) {
    assets.iclTemplate = await readText(join(datasetsDir, files.iclTemplate), 'the prompt template');
  }
  if (files.fewShotExamples !== undefined) {
    const path = join(datasetsDir, files.fewShotExamples);
    assets.fewShotExamples = parseShots(await readText(path, 'the few-shot examples'), path);
  }
  return assets;
}

/**
 * Loads a dataset by name or alias: its registry info (with the prompt template files in
 * `info.promptAssets`) and its problems in the uniform format.
 *
 * Unknown names throw `DATASET_NOT_FOUND` listing the valid names and the nearest one; a dataset
 * that is not bundled throws `DATASET_NOT_FOUND` saying how to obtain it unless `file` is given.
 */
export async function loadDataset(name: string, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const { limit, file, format } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new MasaError('ARGUMENT_INVALID', `limit must be a positive integer, got ${String(limit)} (--limit)`, { details: { limit } });
  }
  const { datasetsDir, manifest } = readManifest(options.datasetsDir === undefined ? {} : { datasetsDir: options.datasetsDir });
  const base = findDataset(manifest.datasets, name);
  const info: DatasetInfo = { ...base, aliases: [...base.aliases] };
  const assets = await loadPromptAssets(info, datasetsDir);
  if (assets !== undefined) info.promptAssets = assets;

  let problems: Problem[];
  if (file !== undefined) {
    const path = resolve(file);
    const table = await readTable(path, format === undefined ? {} : { format });
    const result = convertTable(table, { letterLabels: false, allowEmptyAnswer: true });
    assertNoIssues(path, result);
    problems = result.problems;
    if (result.layout === 'verl') info.template = 'verl';
    info.file = path;
    info.rows = problems.length;
    info.sha256 = null;
  } else {
    if (info.file === null) {
      throw new MasaError('DATASET_NOT_FOUND', `${info.title} (${info.name}) is not bundled. ${info.obtain ?? 'Prepare a copy with masa data prepare and pass it with --file.'}`, {
        details: { name: info.name },
      });
    }
    const path = join(datasetsDir, info.file);
    const table = parseJsonl(await readText(path, 'the dataset file'));
    const result = convertTable(table, { letterLabels: false, allowEmptyAnswer: true });
    assertNoIssues(path, result);
    problems = result.problems;
    if (info.rows !== null && problems.length !== info.rows) {
      throw new MasaError(
        'DATASET_INVALID',
        `${path} has ${problems.length} problems but manifest.json says ${info.rows}: restore the file (git checkout -- datasets) or, if the change is intended, run node packages/datasets/scripts/update-manifest.mjs --write`,
        { details: { path, rows: problems.length, expected: info.rows } },
      );
    }
  }
  return { info, problems: limit === undefined ? problems : problems.slice(0, limit) };
}
