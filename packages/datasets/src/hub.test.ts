import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { prepareHubDataset, selectHubDataFiles } from './hub.js';
import { DATASET_PRESETS } from './presets.js';
import { flatParquet } from './testing/parquet-fixtures.js';

/**
 * A stand-in for huggingface.co serving an in-memory repository: the tree
 * listing API and `resolve` downloads (with the size probe's Range request).
 */
function fakeHub(datasetId: string, files: Record<string, Uint8Array>, requests: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    requests.push(url.pathname);
    const tree = `/api/datasets/${datasetId}/tree/main`;
    if (url.pathname === tree) {
      const listing = Object.entries(files).map(([path, bytes]) => ({ type: 'file', path, size: bytes.length, oid: 'x' }));
      return new Response(JSON.stringify([{ type: 'directory', path: 'data', size: 0, oid: 'd' }, ...listing]), { headers: { 'content-type': 'application/json' } });
    }
    const prefix = `/datasets/${datasetId}/resolve/main/`;
    if (url.pathname.startsWith(prefix)) {
      const bytes = files[decodeURIComponent(url.pathname.slice(prefix.length))];
      if (bytes === undefined) return new Response('not found', { status: 404, headers: { 'X-Error-Code': 'EntryNotFound' } });
      const range = new Headers(init?.headers).get('Range');
      const match = range === null ? null : /bytes=(\d+)-(\d+)/.exec(range);
      if (match !== null) {
        const start = Number(match[1]);
        const end = Math.min(Number(match[2]), bytes.length - 1);
        return new Response(bytes.slice(start, end + 1), {
          status: 206,
          headers: { 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, ETag: '"etag"' },
        });
      }
      return new Response(bytes, { headers: { ETag: '"etag"' } });
    }
    return new Response('{"error":"not found"}', { status: 404 });
  }) as typeof fetch;
}

const text = (value: string) => new TextEncoder().encode(value);

describe('prepareHubDataset (offline, injected fetch)', () => {
  it('downloads DeepScaleR-style deepscaler.json and converts it with the preset', async () => {
    const json = JSON.stringify([
      { problem: 'What is $2+3$?', answer: '5', solution: 'Add: \\boxed{5}' },
      { problem: 'Solve $x-1=0$.', answer: '1', solution: 'x = 1' },
    ]);
    const requests: string[] = [];
    const fetch = fakeHub('agentica-org/DeepScaleR-Preview-Dataset', { 'README.md': text('# card'), 'deepscaler.json': text(json) }, requests);
    const preset = DATASET_PRESETS.deepscaler;
    const result = await prepareHubDataset({ datasetId: preset.hfDataset, split: preset.split, fetch, ...preset.mapping });
    expect(result.files).toEqual(['deepscaler.json']);
    expect(result.problems).toEqual([
      { id: '0', question: 'What is $2+3$?', answer: '5', meta: { solution: 'Add: \\boxed{5}' } },
      { id: '1', question: 'Solve $x-1=0$.', answer: '1', meta: { solution: 'x = 1' } },
    ]);
    expect(requests[0]).toBe('/api/datasets/agentica-org/DeepScaleR-Preview-Dataset/tree/main');
  });

  it('picks the parquet shards of the requested config and split (R-Bench layout)', async () => {
    const shard = (index: number) => flatParquet({ index: [String(index)], question: [`Q${index}`], A: ['a'], B: ['b'], C: [''], D: [null], E: [null], F: [null], answer: ['B'] });
    const files = {
      'rbench-t_en/test-00000-of-00002.parquet': new Uint8Array(shard(1)),
      'rbench-t_en/test-00001-of-00002.parquet': new Uint8Array(shard(2)),
      'rbench-t_zh/test-00000-of-00001.parquet': new Uint8Array(shard(3)),
      'rbench-m_en/test-00000-of-00001.parquet': new Uint8Array(shard(4)),
    };
    const preset = DATASET_PRESETS.rbench;
    const result = await prepareHubDataset({ datasetId: 'R-Bench/R-Bench', config: 'rbench-t_en', split: 'test', fetch: fakeHub('R-Bench/R-Bench', files), ...preset.mapping });
    expect(result.files).toEqual(['rbench-t_en/test-00000-of-00002.parquet', 'rbench-t_en/test-00001-of-00002.parquet']);
    expect(result.problems.map((problem) => [problem.id, problem.question, problem.answer, problem.choices?.length])).toEqual([
      ['1', 'Q1', 'B', 2],
      ['2', 'Q2', 'B', 2],
    ]);
  });

  it('turns a network failure into NETWORK_UNAVAILABLE with the --input alternative', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND huggingface.co') });
    }) as typeof fetch;
    try {
      await prepareHubDataset({ datasetId: 'agentica-org/DeepScaleR-Preview-Dataset', fetch: failing });
      throw new Error('expected an error');
    } catch (error: unknown) {
      expect(MasaError.hasCode(error, 'NETWORK_UNAVAILABLE')).toBe(true);
      expect((error as Error).message).toContain('ENOTFOUND');
      expect((error as Error).message).toContain('--input FILE');
    }
  });

  it('maps 404 and 401 answers to DATASET_NOT_FOUND with a fix', async () => {
    const status = (code: number) => (async () => new Response('{"error":"x"}', { status: code, headers: { 'content-type': 'application/json' } })) as typeof fetch;
    await expect(prepareHubDataset({ datasetId: 'a/b', fetch: status(404) })).rejects.toThrow('check the id');
    await expect(prepareHubDataset({ datasetId: 'a/b', fetch: status(401) })).rejects.toThrow('--hf-token');
    await expect(prepareHubDataset({ datasetId: 'not-an-id', fetch: status(200) })).rejects.toThrow('owner/name');
  });
});

describe('selectHubDataFiles', () => {
  const id = 'x/y';
  it('prefers parquet, keeps shards, ignores metadata files', () => {
    expect(
      selectHubDataFiles(['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet', 'data/test-00000-of-00001.parquet', 'train.jsonl', 'dataset_infos.json'], {
        datasetId: id,
        split: 'train',
      }).map((file) => file.path),
    ).toEqual(['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet']);
  });

  it('asks for --split when several splits remain and lists files for a bad --config', () => {
    expect(() => selectHubDataFiles(['data/train.parquet', 'data/test.parquet'], { datasetId: id })).toThrow('pass a --split');
    expect(() => selectHubDataFiles(['data/train.parquet', 'data/test.parquet'], { datasetId: id, split: 'validation' })).toThrow('data/test.parquet, data/train.parquet');
    // one file, or one set of shards, serves any split name
    expect(selectHubDataFiles(['deepscaler.json', 'README.md'], { datasetId: id, split: 'train' }).map((file) => file.path)).toEqual(['deepscaler.json']);
    expect(
      selectHubDataFiles(['en/part-00000-of-00002.parquet', 'en/part-00001-of-00002.parquet'], { datasetId: id, split: 'test' }).map((file) => file.path),
    ).toEqual(['en/part-00000-of-00002.parquet', 'en/part-00001-of-00002.parquet']);
    expect(() => selectHubDataFiles(['a/test.parquet'], { datasetId: id, config: 'b' })).toThrow('its data files are: a/test.parquet');
    expect(() => selectHubDataFiles(['README.md'], { datasetId: id })).toThrow('refs/convert/parquet');
  });
});
