import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import { verifyDatasets } from './verify.js';

const datasetsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'datasets');
const manifestJson = JSON.parse(readFileSync(join(datasetsDir, 'manifest.json'), 'utf8')) as {
  files: { path: string; rows: number | null; bytes: number; sha256: string }[];
};

function walk(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? walk(path) : [relative(datasetsDir, path)];
  });
}

describe('bundled datasets folder', () => {
  it('every file listed in manifest.json has the recorded sha256, size and row count', () => {
    for (const entry of manifestJson.files) {
      const bytes = readFileSync(join(datasetsDir, entry.path));
      // Independent of the library: node:crypto and a plain line count.
      expect(createHash('sha256').update(bytes).digest('hex'), entry.path).toBe(entry.sha256);
      expect(bytes.length, entry.path).toBe(entry.bytes);
      if (entry.path.endsWith('.jsonl')) {
        const lines = bytes.toString('utf8').split('\n');
        expect(lines.at(-1), `${entry.path} ends with a newline`).toBe('');
        expect(lines.length - 1, entry.path).toBe(entry.rows);
      } else {
        expect(entry.rows).toBeNull();
      }
    }
  });

  it('matches the staging manifest (sha256, bytes, rows typed into /work/shared/data/MANIFEST.md)', () => {
    const staging = readFileSync(join(datasetsDir, 'STAGING-MANIFEST.md'), 'utf8');
    let compared = 0;
    for (const entry of manifestJson.files) {
      const row = staging.split('\n').find((line) => line.startsWith(`| ${entry.path} |`));
      if (row === undefined) continue;
      const cells = row.split('|').map((cell) => cell.trim());
      expect(cells[2], entry.path).toBe(entry.rows === null ? '-' : String(entry.rows));
      expect(cells[5], entry.path).toBe(`\`${entry.sha256}\``);
      expect(cells[6], entry.path).toBe(String(entry.bytes));
      compared += 1;
    }
    // 17 JSONL files + 5 logic templates are in the staging table.
    expect(compared).toBe(22);
  });

  it('lists every file of the folder (nothing bundled without a checksum)', () => {
    const listed = new Set(manifestJson.files.map((entry) => entry.path));
    const unlisted = walk(datasetsDir).filter(
      (path) => !listed.has(path) && !['manifest.json', 'MANIFEST.md', '.gitattributes'].includes(path),
    );
    expect(unlisted).toEqual([]);
  });

  it('MANIFEST.md (the human-readable page) shows every file\'s sha256', () => {
    const page = readFileSync(join(datasetsDir, 'MANIFEST.md'), 'utf8');
    for (const entry of manifestJson.files) expect(page, entry.path).toContain(entry.sha256);
  });

  it('verifyDatasets agrees: all files ok', async () => {
    const checks = await verifyDatasets({ datasetsDir });
    expect(checks.length).toBe(manifestJson.files.length);
    expect(checks.filter((check) => !check.ok)).toEqual([]);
  });
});

describe('parseManifest', () => {
  const file = { path: 'a.jsonl', kind: 'problems', rows: 2, bytes: 10, sha256: 'a'.repeat(64) };
  const dataset = {
    name: 'a',
    title: 'A',
    aliases: ['alpha'],
    domain: 'math',
    answerKind: 'math',
    template: 'math',
    split: 'test',
    file: 'a.jsonl',
    license: 'MIT',
    source: 'here',
    notes: '',
  };
  const parse = (patch: Record<string, unknown>, files: unknown[] = [file]): unknown =>
    parseManifest({ manifestVersion: 1, files, datasets: [{ ...dataset, ...patch }] }, 'm.json');

  it('joins datasets with their file entry', () => {
    const manifest = parseManifest({ manifestVersion: 1, files: [file], datasets: [dataset] }, 'm.json');
    expect(manifest.datasets[0]).toMatchObject({ name: 'a', rows: 2, sha256: 'a'.repeat(64), file: 'a.jsonl' });
  });

  it.each([
    [{ domain: 'poetry' }, '"domain" must be one of'],
    [{ answerKind: 'essay' }, '"answerKind" must be one of'],
    [{ template: 'nope' }, '"template" must be one of'],
    [{ file: 'missing.jsonl' }, 'has no entry in "files"'],
    [{ aliases: 'x' }, '"aliases" must be an array'],
  ])('rejects %j', (patch, message) => {
    expect(() => parse(patch)).toThrow(message);
    try {
      parse(patch);
    } catch (error: unknown) {
      expect(MasaError.hasCode(error, 'DATASET_INVALID')).toBe(true);
      expect((error as Error).message).toContain('m.json: datasets[0]');
    }
  });

  it('rejects an alias used by two datasets and a bad checksum', () => {
    expect(() =>
      parseManifest({ manifestVersion: 1, files: [file], datasets: [dataset, { ...dataset, name: 'b', aliases: ['ALPHA'] }] }, 'm.json'),
    ).toThrow('"ALPHA" is already used by a');
    expect(() => parse({}, [{ ...file, sha256: 'xyz' }])).toThrow('"sha256" must be 64 lowercase hex digits');
    expect(() => parseManifest({ manifestVersion: 2 }, 'm.json')).toThrow('manifestVersion');
  });
});
