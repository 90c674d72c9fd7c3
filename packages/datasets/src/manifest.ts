import { MasaError, type AnswerKind, type Domain } from '@masa-rl/core';
import type { DatasetInfo, DatasetSplit, PromptTemplateName } from './types.js';

/** One file of the datasets folder, as listed in `manifest.json`. */
export interface ManifestFile {
  /** Path relative to the datasets folder. */
  path: string;
  /** `problems`, `few-shot`, `prompt-template` or `provenance`. */
  kind: string;
  /** Non-empty lines of a JSONL file; `null` for other files. */
  rows: number | null;
  bytes: number;
  sha256: string;
}

/** The parsed `datasets/manifest.json`. */
export interface DatasetsManifest {
  manifestVersion: 1;
  datasets: DatasetInfo[];
  files: ManifestFile[];
}

const DOMAINS: readonly Domain[] = ['math', 'science', 'logic', 'coding'];
const ANSWER_KINDS: readonly AnswerKind[] = ['math', 'choice', 'code'];
const TEMPLATES: readonly PromptTemplateName[] = [
  'math',
  'science-choice',
  'scibench',
  'logic',
  'mbpp',
  'deepscaler',
  'verl',
  'synthetic-arith',
];
const SPLITS: readonly DatasetSplit[] = ['train', 'validation', 'test'];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates the JSON of `datasets/manifest.json` and joins each dataset with its
 * file entry (rows, sha256). Throws `DATASET_INVALID` naming the manifest path
 * and the offending entry.
 *
 * @param json the parsed JSON value.
 * @param manifestPath used in error messages only.
 */
export function parseManifest(json: unknown, manifestPath: string): DatasetsManifest {
  const fail = (where: string, what: string): never => {
    throw new MasaError('DATASET_INVALID', `${manifestPath}: ${where}: ${what} (fix the entry by hand, then run node packages/datasets/scripts/update-manifest.mjs)`, {
      details: { path: manifestPath, where },
    });
  };
  if (!isObject(json)) return fail('top level', 'expected a JSON object');
  if (json['manifestVersion'] !== 1) fail('manifestVersion', `expected 1, got ${JSON.stringify(json['manifestVersion'])}`);
  const rawFiles = json['files'];
  const rawDatasets = json['datasets'];
  if (!Array.isArray(rawFiles)) return fail('files', 'expected an array');
  if (!Array.isArray(rawDatasets)) return fail('datasets', 'expected an array');

  const files: ManifestFile[] = rawFiles.map((entry: unknown, index) => {
    const where = `files[${index}]`;
    if (!isObject(entry)) return fail(where, 'expected an object');
    const { path, kind, rows, bytes, sha256 } = entry;
    if (typeof path !== 'string' || path === '') return fail(where, '"path" must be a non-empty string');
    if (typeof kind !== 'string') return fail(where, '"kind" must be a string');
    if (rows !== null && !(typeof rows === 'number' && Number.isInteger(rows) && rows >= 0)) {
      return fail(where, '"rows" must be a non-negative integer or null');
    }
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) return fail(where, '"bytes" must be a non-negative integer');
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return fail(where, '"sha256" must be 64 lowercase hex digits');
    return { path, kind, rows, bytes, sha256 };
  });
  const fileByPath = new Map(files.map((file) => [file.path, file]));

  const seenNames = new Map<string, string>();
  const datasets: DatasetInfo[] = rawDatasets.map((entry: unknown, index) => {
    const where = `datasets[${index}]`;
    if (!isObject(entry)) return fail(where, 'expected an object');
    const text = (key: string): string => {
      const value = entry[key];
      if (typeof value !== 'string') return fail(where, `"${key}" must be a string`);
      return value;
    };
    const name = text('name');
    const aliases = entry['aliases'];
    if (!Array.isArray(aliases) || !aliases.every((alias) => typeof alias === 'string')) {
      return fail(where, '"aliases" must be an array of strings');
    }
    const domain = text('domain') as Domain;
    if (!DOMAINS.includes(domain)) fail(where, `"domain" must be one of ${DOMAINS.join(', ')}`);
    const answerKind = text('answerKind') as AnswerKind;
    if (!ANSWER_KINDS.includes(answerKind)) fail(where, `"answerKind" must be one of ${ANSWER_KINDS.join(', ')}`);
    const template = text('template') as PromptTemplateName;
    if (!TEMPLATES.includes(template)) fail(where, `"template" must be one of ${TEMPLATES.join(', ')}`);
    const split = text('split') as DatasetSplit;
    if (!SPLITS.includes(split)) fail(where, `"split" must be one of ${SPLITS.join(', ')}`);
    const file = entry['file'];
    if (file !== null && typeof file !== 'string') return fail(where, '"file" must be a string or null');
    const fileEntry = file === null ? undefined : fileByPath.get(file);
    if (file !== null && fileEntry === undefined) fail(where, `"file" ${file} has no entry in "files"`);

    for (const label of [name, ...(aliases as string[])]) {
      const key = normalizeDatasetName(label);
      const owner = seenNames.get(key);
      if (owner !== undefined && owner !== name) fail(where, `name or alias "${label}" is already used by ${owner}`);
      seenNames.set(key, name);
    }

    const info: DatasetInfo = {
      name,
      title: text('title'),
      aliases: [...(aliases as string[])],
      domain,
      answerKind,
      template,
      split,
      file,
      rows: fileEntry?.rows ?? null,
      sha256: fileEntry?.sha256 ?? null,
      license: text('license'),
      source: text('source'),
      notes: text('notes'),
    };
    for (const key of ['referenceName', 'obtain'] as const) {
      const value = entry[key];
      if (value === undefined) continue;
      if (typeof value !== 'string') return fail(where, `"${key}" must be a string`);
      info[key] = value;
    }
    const assets = entry['promptAssetFiles'];
    if (assets !== undefined) {
      if (!isObject(assets)) return fail(where, '"promptAssetFiles" must be an object');
      const files: { iclTemplate?: string; fewShotExamples?: string } = {};
      for (const key of ['iclTemplate', 'fewShotExamples'] as const) {
        const value = assets[key];
        if (value === undefined) continue;
        if (typeof value !== 'string' || !fileByPath.has(value)) {
          return fail(where, `"promptAssetFiles.${key}" must name a file listed in "files"`);
        }
        files[key] = value;
      }
      info.promptAssetFiles = files;
    }
    return info;
  });

  return { manifestVersion: 1, datasets, files };
}

/** The form names are compared in: lower case, without `-`, `_`, `.` or spaces. */
export function normalizeDatasetName(name: string): string {
  return name.toLowerCase().replace(/[-_.\s]/g, '');
}
