/**
 * The dashboard: a local HTTP server, bound to 127.0.0.1 only, that serves a
 * static page (uPlot charts, served from `node_modules`) and streams the run
 * folders' JSON-lines files to it as server-sent events. Files are followed
 * by polling their size, so it works on any filesystem and for runs that are
 * still training (in this process's child, or in another process).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasaError } from '@masa-rl/core';
import { RUN_FILES, resolveConfig } from '@masa-rl/trainer';
import { META_STATS_FILE } from '../meta-stats.js';
import { createJsonlTail, type JsonlTail } from './jsonl-tail.js';

/** The loopback address the dashboard listens on (never another interface). */
export const DASHBOARD_HOST = '127.0.0.1';

/** The default port. */
export const DEFAULT_DASHBOARD_PORT = 8765;

export interface StartDashboardOptions {
  /** Run folders to show, overlaid on the same axes. */
  runDirs: readonly string[];
  /** TCP port; 0 picks a free one. @default 8765 */
  port?: number;
  /** How often the files are checked for new lines. @default 500 */
  pollMs?: number;
  /** `samples.jsonl` lines kept per run for the page. @default 400 */
  maxSamples?: number;
}

export interface Dashboard {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly port: number;
  /** Checks the files once now (tests; the timer does it every `pollMs`). */
  poll(): void;
  close(): Promise<void>;
}

/** What the page learns about a run. */
export interface DashboardRun {
  id: string;
  name: string;
  dir: string;
  algorithm: string | null;
  totalSteps: number | null;
  rolloutN: number | null;
  metaN: number | null;
}

type FileKey = 'metrics' | 'metaStats' | 'samples';

interface RunState {
  info: DashboardRun;
  tails: Record<FileKey, JsonlTail>;
  data: Record<FileKey, Array<Record<string, unknown>>>;
  configStamp: string;
}

function packageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'static', 'index.html'))) return dir;
    dir = dirname(dir);
  }
  throw new MasaError('RUNTIME_UNAVAILABLE', `the dashboard's static files are missing (no static/index.html above ${fileURLToPath(import.meta.url)}); reinstall @masa-rl/train-app`);
}

function uplotDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  } catch (error: unknown) {
    throw new MasaError('RUNTIME_UNAVAILABLE', 'the charting library uPlot is not installed; run pnpm install', { cause: error });
  }
}

function readRunInfo(state: Pick<RunState, 'info'>): void {
  const path = join(state.info.dir, RUN_FILES.config);
  try {
    const config = resolveConfig({ file: { text: readFileSync(path, 'utf8'), path } });
    state.info.algorithm = config.algorithm.name;
    state.info.totalSteps = config.trainer.total_training_steps;
    state.info.rolloutN = config.actor_rollout_ref.rollout.n;
    state.info.metaN = config.masa.meta_n;
  } catch {
    // No config yet (a run that is starting) or one from another version: the page does without.
  }
}

function configStamp(dir: string): string {
  try {
    const info = statSync(join(dir, RUN_FILES.config));
    return `${info.size}:${info.mtimeMs}`;
  } catch {
    return 'none';
  }
}

/** Unique display names: the folder name, with its parent where two clash. */
function runNames(dirs: readonly string[]): string[] {
  const names = dirs.map((dir) => basename(dir));
  return names.map((name, index) => (names.indexOf(name) !== names.lastIndexOf(name) ? `${basename(dirname(dirs[index] as string))}/${name}` : name));
}

const STATIC_FILES: Record<string, { file: string; type: string; from: 'static' | 'uplot' }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8', from: 'static' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8', from: 'static' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8', from: 'static' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8', from: 'static' },
  '/vendor/uPlot.iife.min.js': { file: 'uPlot.iife.min.js', type: 'text/javascript; charset=utf-8', from: 'uplot' },
  '/vendor/uPlot.min.css': { file: 'uPlot.min.css', type: 'text/css; charset=utf-8', from: 'uplot' },
};

/**
 * Starts the dashboard on 127.0.0.1.
 *
 * @throws MasaError `FILE_NOT_FOUND` (a run folder that does not exist), `ARGUMENT_INVALID` (port in use or not allowed)
 */
export async function startDashboard(options: StartDashboardOptions): Promise<Dashboard> {
  const { runDirs, port = DEFAULT_DASHBOARD_PORT, pollMs = 500, maxSamples = 400 } = options;
  if (runDirs.length === 0) throw new MasaError('ARGUMENT_INVALID', 'no run folder given; pass one or more, e.g. masa ui runs/tiny-arith-masa-efficient');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MasaError('ARGUMENT_INVALID', `--port ${String(port)} is not a TCP port; pass a number from 1 to 65535 (0 picks a free one)`);
  }
  const dirs = runDirs.map((dir) => resolve(dir));
  for (const dir of dirs) {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new MasaError('FILE_NOT_FOUND', `run folder ${dir} does not exist; pass a folder written by masa train (it holds metrics.jsonl)`, { details: { path: dir } });
  }
  const staticDir = join(packageDir(), 'static');
  const vendorDir = uplotDir();
  const names = runNames(dirs);
  const runs: RunState[] = dirs.map((dir, index) => {
    const state: RunState = {
      info: { id: `r${index}`, name: names[index] as string, dir, algorithm: null, totalSteps: null, rolloutN: null, metaN: null },
      tails: {
        metrics: createJsonlTail(join(dir, RUN_FILES.metrics)),
        metaStats: createJsonlTail(join(dir, META_STATS_FILE)),
        samples: createJsonlTail(join(dir, RUN_FILES.samples)),
      },
      data: { metrics: [], metaStats: [], samples: [] },
      configStamp: configStamp(dir),
    };
    readRunInfo(state);
    return state;
  });

  const clients = new Set<ServerResponse>();
  const broadcast = (event: string, data: unknown): void => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of clients) client.write(frame);
  };

  const poll = (): void => {
    for (const run of runs) {
      const stamp = configStamp(run.info.dir);
      if (stamp !== run.configStamp) {
        run.configStamp = stamp;
        readRunInfo(run);
        broadcast('run', run.info);
      }
      for (const key of ['metrics', 'metaStats', 'samples'] as const) {
        const result = run.tails[key].poll();
        if (result.reset) {
          run.data[key] = [];
          broadcast('reset', { run: run.info.id, file: key });
        }
        if (result.records.length > 0) {
          run.data[key].push(...result.records);
          if (key === 'samples' && run.data.samples.length > maxSamples) run.data.samples.splice(0, run.data.samples.length - maxSamples);
          broadcast('append', { run: run.info.id, file: key, records: result.records });
        }
      }
    }
  };
  poll();

  let actualPort = port;
  const allowedHosts = (): Set<string> => new Set([`127.0.0.1:${actualPort}`, `localhost:${actualPort}`]);

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    // A page on another site must not read the run through DNS rebinding: only loopback host names.
    if (!allowedHosts().has(request.headers.host ?? '')) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden: open the dashboard at its 127.0.0.1 address\n');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/api/stream') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      response.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify({ runs: runs.map((run) => ({ ...run.info, data: run.data })) })}\n\n`);
      clients.add(response);
      request.on('close', () => clients.delete(response));
      return;
    }
    if (url.pathname === '/api/runs') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(runs.map((run) => run.info)));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    const entry = STATIC_FILES[url.pathname];
    if (entry === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const body = readFileSync(join(entry.from === 'static' ? staticDir : vendorDir, entry.file));
      response.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-cache' }).end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(500, { 'content-type': 'text/plain' }).end('dashboard file missing\n');
    }
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        rejectListen(new MasaError('ARGUMENT_INVALID', `port ${port} on ${DASHBOARD_HOST} is in use (another dashboard?); pass --port N with a free port, or --port 0 for any free one`, { cause: error, details: { port } }));
      } else if (error.code === 'EACCES') {
        rejectListen(new MasaError('ARGUMENT_INVALID', `port ${port} needs privileges; pass --port N with N above 1023`, { cause: error, details: { port } }));
      } else {
        rejectListen(new MasaError('NETWORK_UNAVAILABLE', `the dashboard could not listen on ${DASHBOARD_HOST}:${port} (${error.message})`, { cause: error }));
      }
    });
    server.listen(port, DASHBOARD_HOST, () => resolveListen());
  });
  const address = server.address();
  actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const timer = setInterval(poll, pollMs);
  timer.unref();
  const heartbeat = setInterval(() => {
    for (const client of clients) client.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();

  return {
    url: `http://${DASHBOARD_HOST}:${actualPort}/`,
    port: actualPort,
    poll,
    close: async () => {
      clearInterval(timer);
      clearInterval(heartbeat);
      for (const client of clients) client.end();
      clients.clear();
      const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      server.closeAllConnections();
      await closed;
    },
  };
}
