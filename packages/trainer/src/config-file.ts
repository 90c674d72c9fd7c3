/**
 * The thin file-reading edge of the config: read a YAML file, resolve it, and
 * check that the dataset paths exist before any work starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MasaError } from '@masa-rl/core';
import type { AlgorithmName, TrainerConfig } from './config-schema.js';
import { resolveConfig } from './config.js';

export interface CheckDatasetPathsOptions {
  config: TrainerConfig;
  /** Does this path exist? @default `fs.existsSync` */
  exists?: (path: string) => boolean;
  /** Names that are not paths (a bundled dataset the app resolves, e.g. `tiny-arith`); they are not checked. @default none */
  isDatasetName?: (name: string) => boolean;
  /** Relative paths are resolved against this folder. @default `process.cwd()` */
  baseDir?: string;
}

const asList = (value: string | readonly string[] | null): readonly string[] =>
  value === null ? [] : typeof value === 'string' ? [value] : value;

/**
 * Checks that every `data.train_files` / `data.val_files` entry exists.
 *
 * @throws MasaError `DATASET_NOT_FOUND` naming the key, the path and how to fix it.
 */
export function checkDatasetPaths(options: CheckDatasetPathsOptions): void {
  const { config, exists = existsSync, isDatasetName = () => false, baseDir = process.cwd() } = options;
  for (const key of ['train_files', 'val_files'] as const) {
    for (const entry of asList(config.data[key])) {
      if (isDatasetName(entry)) continue;
      const absolute = resolve(baseDir, entry);
      if (!exists(absolute)) {
        throw new MasaError(
          'DATASET_NOT_FOUND',
          `data.${key}: ${entry} does not exist (looked at ${absolute}); fix the path in the config file or pass --set data.${key}=PATH`,
          { details: { key: `data.${key}`, path: entry, resolved: absolute } },
        );
      }
    }
  }
}

export interface LoadConfigFileOptions {
  /** YAML config file; omit to resolve from defaults and overrides only. */
  path?: string;
  /** `--set a.b=c` overrides. @default [] */
  overrides?: readonly string[];
  /** Algorithm from the command line. */
  algo?: AlgorithmName;
  /** Check that dataset paths exist. @default true */
  checkPaths?: boolean;
  /** See {@link CheckDatasetPathsOptions.isDatasetName}. */
  isDatasetName?: (name: string) => boolean;
}

/**
 * Reads and resolves a config file, then checks the dataset paths, so that a
 * typo fails before any model is loaded.
 *
 * @throws MasaError `FILE_NOT_FOUND`, `CONFIG_INVALID`, `DATASET_NOT_FOUND`
 */
export function loadConfigFile(options: LoadConfigFileOptions): TrainerConfig {
  const { path, overrides = [], algo, checkPaths = true, isDatasetName } = options;
  let file: { text: string; path: string } | undefined;
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error: unknown) {
      throw new MasaError('FILE_NOT_FOUND', `config file ${path} cannot be read (${(error as Error).message}); check the --config path`, {
        cause: error,
        details: { path },
      });
    }
    file = { text, path };
  }
  const config = resolveConfig({
    ...(file === undefined ? {} : { file }),
    overrides,
    ...(algo === undefined ? {} : { algo }),
  });
  if (checkPaths) checkDatasetPaths({ config, ...(isDatasetName === undefined ? {} : { isDatasetName }) });
  return config;
}
