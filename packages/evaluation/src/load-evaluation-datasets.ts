/**
 * The datasets of an evaluation: one by name, or every dataset of a domain (MASA-SPEC §12.1), with
 * the unbundled ones (GPQA-Diamond, R-Bench) included only when a copy is given.
 */
import { resolve } from 'node:path';
import { MasaError, type Domain } from '@masa-rl/core';
import { getDatasetInfo, loadDataset, loadGpqaCsv, type LoadedDataset } from '@masa-rl/datasets';
import { DOMAIN_DATASETS, EVAL_DOMAINS } from './domains.js';

/** A loaded dataset plus the file it came from (null: the bundled one). */
export interface EvaluationDataset extends LoadedDataset {
  /** Absolute path of a prepared copy or GPQA CSV; null for the bundled file. */
  file: string | null;
}

export interface LoadEvaluationDatasetsOptions {
  /** One dataset by name or alias (`masa data list`). Give this or `domain`. */
  dataset?: string;
  /** Every dataset of a domain. Give this or `dataset`. */
  domain?: string;
  /**
   * Folder of bundled datasets.
   * @default found by walking up from `@masa-rl/datasets`
   */
  datasetsDir?: string;
  /**
   * Keep the first `limit` problems of each dataset.
   * @default all
   */
  limit?: number;
  /** A prepared copy of `dataset` (needed for unbundled sets such as `rbench`). */
  file?: string;
  /** The official GPQA CSV: adds `gpqa_diamond` (to the science domain, or as `dataset`). */
  gpqaCsv?: string;
  /** A prepared R-Bench file (`masa data prepare --preset rbench`): adds `rbench` to the science domain. */
  rbenchFile?: string;
  /**
   * The reference's GPQA option order (the correct answer always D) instead of a per-question shuffle.
   * @default false
   */
  parity?: boolean;
  /** Test seams. */
  _internal?: {
    loadDataset?: typeof loadDataset;
    loadGpqaCsv?: typeof loadGpqaCsv;
  };
}

/** What {@link loadEvaluationDatasets} found. */
export interface LoadedEvaluationDatasets {
  datasets: EvaluationDataset[];
  /** Datasets of the domain left out, with the reason and the flag that adds them. */
  skipped: Array<{ name: string; reason: string }>;
}

/**
 * Loads the datasets of an evaluation.
 *
 * @throws MasaError `ARGUMENT_INVALID` for neither or both of `dataset`/`domain`, or an unknown domain.
 * @throws MasaError `DATASET_NOT_FOUND` for an unknown or unbundled dataset without a copy.
 */
export async function loadEvaluationDatasets(options: LoadEvaluationDatasetsOptions): Promise<LoadedEvaluationDatasets> {
  const { dataset, domain, datasetsDir, limit, file, gpqaCsv, rbenchFile, parity = false, _internal = {} } = options;
  const load = _internal.loadDataset ?? loadDataset;
  const loadGpqa = _internal.loadGpqaCsv ?? loadGpqaCsv;
  const registry = datasetsDir === undefined ? {} : { datasetsDir };
  const limited = limit === undefined ? {} : { limit };
  if ((dataset === undefined) === (domain === undefined)) {
    throw new MasaError('ARGUMENT_INVALID', 'pass exactly one of --dataset NAME and --domain math|science|logic|coding', { details: { dataset, domain } });
  }
  const gpqa = async (): Promise<EvaluationDataset> => {
    const path = resolve(gpqaCsv as string);
    return { ...(await loadGpqa(path, { ...registry, ...limited, parity })), file: path };
  };

  if (dataset !== undefined) {
    const info = getDatasetInfo(dataset, registry);
    if (info.name === 'gpqa_diamond') {
      if (gpqaCsv === undefined) {
        throw new MasaError('DATASET_NOT_FOUND', 'gpqa_diamond is never bundled: pass the official CSV with --gpqa-csv gpqa_diamond.csv (see masa data show gpqa_diamond)', {
          details: { dataset: info.name },
        });
      }
      return { datasets: [await gpqa()], skipped: [] };
    }
    const copy = file ?? (info.name === 'rbench' ? rbenchFile : undefined);
    const path = copy === undefined ? null : resolve(copy);
    const loaded = await load(info.name, { ...registry, ...limited, ...(path === null ? {} : { file: path }) });
    return { datasets: [{ ...loaded, file: path }], skipped: [] };
  }

  if (!(EVAL_DOMAINS as readonly string[]).includes(domain as string)) {
    throw new MasaError('ARGUMENT_INVALID', `unknown domain "${domain}": use --domain ${EVAL_DOMAINS.join(', ')}`, { details: { domain } });
  }
  if (file !== undefined) throw new MasaError('ARGUMENT_INVALID', '--file goes with --dataset; with --domain science pass --rbench-file or --gpqa-csv', { details: { file } });
  const datasets: EvaluationDataset[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const name of DOMAIN_DATASETS[domain as Domain]) {
    if (name === 'gpqa_diamond') {
      if (gpqaCsv === undefined) skipped.push({ name, reason: 'not bundled; add it with --gpqa-csv gpqa_diamond.csv' });
      else datasets.push(await gpqa());
      continue;
    }
    if (name === 'rbench') {
      if (rbenchFile === undefined) skipped.push({ name, reason: 'not bundled; add it with --rbench-file (masa data prepare --preset rbench)' });
      else {
        const path = resolve(rbenchFile);
        datasets.push({ ...(await load(name, { ...registry, ...limited, file: path })), file: path });
      }
      continue;
    }
    datasets.push({ ...(await load(name, { ...registry, ...limited })), file: null });
  }
  return { datasets, skipped };
}
