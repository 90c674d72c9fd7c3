#!/usr/bin/env node
// Recomputes the `files` section of datasets/manifest.json (rows, bytes, sha256)
// from the bundled files. The dataset metadata (names, aliases, licenses …) is
// edited by hand in manifest.json itself; this script only refreshes numbers.
//
//   node packages/datasets/scripts/update-manifest.mjs          # check, exit 1 on drift
//   node packages/datasets/scripts/update-manifest.mjs --write  # rewrite manifest.json
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const datasetsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'datasets');
const manifestPath = join(datasetsDir, 'manifest.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const write = process.argv.includes('--write');

let drift = 0;
for (const entry of manifest.files) {
  const bytes = readFileSync(join(datasetsDir, entry.path));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const rows = entry.path.endsWith('.jsonl')
    ? bytes.toString('utf8').split('\n').filter((line) => line.trim() !== '').length
    : null;
  const fresh = { ...entry, rows, bytes: bytes.length, sha256 };
  if (fresh.rows !== entry.rows || fresh.bytes !== entry.bytes || fresh.sha256 !== entry.sha256) {
    drift += 1;
    process.stderr.write(`${entry.path}: rows ${entry.rows}→${rows}, bytes ${entry.bytes}→${bytes.length}, sha256 ${entry.sha256}→${sha256}\n`);
  }
  Object.assign(entry, fresh);
}
if (write) {
  const temp = `${manifestPath}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(temp, manifestPath);
  process.stderr.write(`updated ${manifestPath} (${drift} file(s) changed)\n`);
} else if (drift > 0) {
  process.stderr.write(`${drift} file(s) differ from datasets/manifest.json; rerun with --write if the change is intended\n`);
  process.exit(1);
} else {
  process.stderr.write(`datasets/manifest.json matches all ${manifest.files.length} files\n`);
}
