import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';

/** File name of the registry inside the datasets folder. */
export const MANIFEST_FILE = 'manifest.json';

export interface FindDatasetsDirOptions {
  /**
   * The datasets folder to use. When given it must contain `manifest.json`.
   * @default walk up from this package's location to the first folder holding `datasets/manifest.json`
   */
  datasetsDir?: string;
  /**
   * Where the upward search starts (a test seam).
   * @default the directory of this module
   */
  searchFrom?: string;
}

/**
 * Finds the folder of bundled datasets: the explicit `datasetsDir`, else the
 * first `datasets/` folder with a `manifest.json` found walking up from this
 * package (the repository's `datasets/`). Library code reads no environment
 * variables; the CLI passes `MASA_DATASETS_DIR` as `datasetsDir`.
 */
export function findDatasetsDir(options: FindDatasetsDirOptions = {}): string {
  const { datasetsDir, searchFrom = dirname(fileURLToPath(import.meta.url)) } = options;
  if (datasetsDir !== undefined) {
    const folder = resolve(datasetsDir);
    if (!existsSync(join(folder, MANIFEST_FILE))) {
      throw new MasaError(
        'FILE_NOT_FOUND',
        `${folder} has no ${MANIFEST_FILE}: point --datasets-dir (or MASA_DATASETS_DIR, or the datasetsDir option) at the repository's datasets/ folder`,
        { details: { datasetsDir: folder } },
      );
    }
    return folder;
  }
  let current = resolve(searchFrom);
  for (;;) {
    const candidate = join(current, 'datasets');
    if (existsSync(join(candidate, MANIFEST_FILE))) return candidate;
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  throw new MasaError(
    'FILE_NOT_FOUND',
    `could not find datasets/${MANIFEST_FILE} above ${searchFrom}: pass --datasets-dir (or set MASA_DATASETS_DIR, or the datasetsDir option) to the folder of bundled datasets`,
    { details: { searchFrom } },
  );
}
