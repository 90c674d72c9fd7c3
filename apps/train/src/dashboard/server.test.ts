import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../__tests__/fake-run.js';
import { startDashboard, type Dashboard } from './server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function runFolder(lines: string[]): string {
  const dir = tempDir('ui');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((line) => `${line}\n`).join(''));
  return dir;
}

async function start(runDirs: string[]): Promise<Dashboard> {
  const dashboard = await startDashboard({ runDirs, port: 0, pollMs: 60_000 });
  cleanups.push(() => dashboard.close());
  return dashboard;
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads server-sent events until `until` says stop. */
function events(url: string, until: (seen: Array<{ event: string; data: unknown }>) => boolean, onOpen: () => void = () => {}): Promise<Array<{ event: string; data: unknown }>> {
  return new Promise((resolve, reject) => {
    const seen: Array<{ event: string; data: unknown }> = [];
    let buffer = '';
    const req = request(`${url}api/stream`, (response) => {
      onOpen();
      response.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event !== undefined && data !== undefined) seen.push({ event, data: JSON.parse(data) as unknown });
          cut = buffer.indexOf('\n\n');
        }
        if (until(seen)) {
          req.destroy();
          resolve(seen);
        }
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(seen) : reject(error)));
    req.end();
  });
}

describe('startDashboard', () => {
  it('listens on 127.0.0.1 only and serves the page, uPlot from node_modules, and nothing else', async () => {
    const dashboard = await start([runFolder(['{"step":1}'])]);
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(dashboard.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('/vendor/uPlot.iife.min.js');
    const uplot = await get(`${dashboard.url}vendor/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.type).toMatch(/javascript/);
    expect(uplot.body).toContain('uPlot');
    expect((await get(`${dashboard.url}vendor/../../package.json`)).status).toBe(404);
    expect((await get(`${dashboard.url}app.js`)).body).toContain('EventSource');
    // DNS rebinding: a foreign Host header is refused.
    expect((await get(dashboard.url, { host: 'evil.example:80' })).status).toBe(403);
    const runs = JSON.parse((await get(`${dashboard.url}api/runs`)).body) as Array<{ id: string }>;
    expect(runs.map((run) => run.id)).toEqual(['r0']);
  });

  it('streams a snapshot, then appended lines, then a reset when a file is rewritten', async () => {
    const dir = runFolder(['{"step":1,"critic/score/mean":0.5}']);
    const other = runFolder(['{"step":1,"critic/score/mean":0.25}']);
    const dashboard = await start([dir, other]);
    const seen = await events(
      dashboard.url,
      (frames) => frames.some((frame) => frame.event === 'reset'),
      () => {
        setTimeout(() => {
          appendFileSync(join(dir, 'metrics.jsonl'), '{"step":2,"critic/score/mean":0.75}\n{"step":3,');
          mkdirSync(join(other, 'x'), { recursive: true });
          dashboard.poll();
          writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1}\n');
          dashboard.poll();
        }, 50);
      },
    );
    const snapshot = seen[0] as { event: string; data: { runs: Array<{ id: string; name: string; data: { metrics: unknown[] } }> } };
    expect(snapshot.event).toBe('snapshot');
    expect(snapshot.data.runs.map((run) => run.data.metrics)).toEqual([[{ step: 1, 'critic/score/mean': 0.5 }], [{ step: 1, 'critic/score/mean': 0.25 }]]);
    expect(seen[1]).toEqual({ event: 'append', data: { run: 'r0', file: 'metrics', records: [{ step: 2, 'critic/score/mean': 0.75 }] } });
    expect(seen[2]).toEqual({ event: 'reset', data: { run: 'r0', file: 'metrics' } });
  });

  it('says which port is taken and how to pick another; rejects a missing run folder', async () => {
    const dir = runFolder([]);
    const first = await start([dir]);
    const error = await startDashboard({ runDirs: [dir], port: first.port }).catch((caught: unknown) => caught);
    expect(MasaError.isInstance(error) && error.code).toBe('ARGUMENT_INVALID');
    expect((error as Error).message).toMatch(new RegExp(`port ${first.port} .* in use.*--port`));
    const missing = await startDashboard({ runDirs: [join(dir, 'nope')], port: 0 }).catch((caught: unknown) => caught);
    expect(MasaError.isInstance(missing) && missing.code).toBe('FILE_NOT_FOUND');
  });
});
