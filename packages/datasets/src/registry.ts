import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { findDatasetsDir, MANIFEST_FILE } from './datasets-dir.js';
import { normalizeDatasetName, parseManifest, type DatasetsManifest } from './manifest.js';
import type { DatasetInfo } from './types.js';

export interface RegistryOptions {
  /**
   * Folder of bundled datasets (holding `manifest.json`).
   * @default found by walking up from this package (see `findDatasetsDir`)
   */
  datasetsDir?: string;
}

/** Reads and validates `manifest.json` of the datasets folder. */
export function readManifest(options: RegistryOptions = {}): { datasetsDir: string; manifest: DatasetsManifest } {
  const datasetsDir = findDatasetsDir(options);
  const manifestPath = join(datasetsDir, MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error: unknown) {
    throw new MasaError('DATASET_INVALID', `${manifestPath} is not valid JSON: restore it from git (git checkout -- datasets/${MANIFEST_FILE})`, {
      cause: error,
      details: { path: manifestPath },
    });
  }
  return { datasetsDir, manifest: parseManifest(json, manifestPath) };
}

/** Every dataset the registry knows, bundled or not (`file === null`), in manifest order. */
export function listDatasets(options: RegistryOptions = {}): DatasetInfo[] {
  return readManifest(options).manifest.datasets;
}

/**
 * Looks a dataset up by name or alias (ignoring case, `-`, `_`, `.`).
 * Unknown names throw `DATASET_NOT_FOUND` listing the valid names and the nearest one.
 */
export function getDatasetInfo(name: string, options: RegistryOptions = {}): DatasetInfo {
  return findDataset(listDatasets(options), name);
}

/** {@link getDatasetInfo} over an already-read list. */
export function findDataset(datasets: readonly DatasetInfo[], name: string): DatasetInfo {
  const key = normalizeDatasetName(name);
  for (const info of datasets) {
    if (normalizeDatasetName(info.name) === key) return info;
    if (info.aliases.some((alias) => normalizeDatasetName(alias) === key)) return info;
  }
  const nearest = suggestDatasetName(datasets, name);
  const hint = nearest === undefined ? '' : ` Did you mean "${nearest}"?`;
  throw new MasaError(
    'DATASET_NOT_FOUND',
    `unknown dataset "${name}".${hint} Valid names: ${datasets.map((info) => info.name).join(', ')} (run masa data list for details)`,
    { details: { name, suggestion: nearest ?? null, valid: datasets.map((info) => info.name) } },
  );
}

/**
 * The canonical name whose name or alias is closest to `name` by edit distance,
 * or undefined when nothing is reasonably close (distance above half the length).
 */
export function suggestDatasetName(datasets: readonly DatasetInfo[], name: string): string | undefined {
  const key = normalizeDatasetName(name);
  let best: { name: string; distance: number } | undefined;
  for (const info of datasets) {
    for (const label of [info.name, ...info.aliases]) {
      const candidate = normalizeDatasetName(label);
      let distance = editDistance(key, candidate);
      // A prefix or containment match ("olympiad" → "olympiadbench") counts as close.
      if (candidate.startsWith(key) || key.startsWith(candidate)) distance = Math.min(distance, 1);
      if (best === undefined || distance < best.distance) best = { name: info.name, distance };
    }
  }
  if (best === undefined || best.distance > Math.max(2, Math.floor(key.length / 2))) return undefined;
  return best.name;
}

/** Levenshtein distance (insert, delete, substitute each cost 1). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
