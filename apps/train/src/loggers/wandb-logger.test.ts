import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeWandbServer, type FakeWandbServer } from './__tests__/fake-wandb-server.js';
import { createWandbLogger, findWandbApiKey, resolveWandbMode, wandbHost, type CreateWandbLoggerOptions, type WandbSdk } from './wandb-logger.js';

const KEY = 'k'.repeat(40);
const dirs: string[] = [];
const servers: FakeWandbServer[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  for (const server of servers.splice(0)) await server.close();
});
function home(netrc?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'masa-wandb-home-'));
  dirs.push(dir);
  if (netrc !== undefined) writeFileSync(join(dir, '.netrc'), netrc);
  return dir;
}

async function failure(promise: Promise<unknown>): Promise<MasaError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (MasaError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a MasaError');
}

interface FakeCall {
  options: Parameters<WandbSdk['init']>[0];
  logs: Array<{ data: Record<string, unknown>; step: number | undefined }>;
  finished: number[];
}

/** A fake `@wandb/sdk` module that behaves like 0.5.1 at its boundary (including its SIGINT handler). */
function fakeSdk(behaviour: { initError?: Error; hangInit?: boolean; hangFinish?: boolean } = {}): { module: { default: WandbSdk }; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const sdk: WandbSdk = {
    init(options) {
      const call: FakeCall = { options, logs: [], finished: [] };
      calls.push(call);
      // The real SDK installs these, and its SIGINT handler calls process.exit().
      process.once('SIGINT', () => process.exit(99));
      process.once('SIGTERM', () => process.exit(99));
      if (behaviour.initError !== undefined) return Promise.reject(behaviour.initError);
      if (behaviour.hangInit === true) return new Promise(() => undefined);
      return Promise.resolve({
        id: 'run-1',
        log: (data, step) => call.logs.push({ data, step }),
        finish: (code) => {
          call.finished.push(code ?? 0);
          return behaviour.hangFinish === true ? new Promise<void>(() => undefined) : Promise.resolve();
        },
        url: () => 'https://wandb.ai/tester/proj/runs/run-1',
      });
    },
  };
  return { module: { default: sdk }, calls };
}

const base = (extra: Partial<CreateWandbLoggerOptions> = {}): CreateWandbLoggerOptions => ({ env: { WANDB_API_KEY: KEY }, homeDir: home(), ...extra });

describe('W&B preflight', () => {
  it('names the install command when @wandb/sdk is missing', async () => {
    const error = await failure(
      createWandbLogger(base({ _internal: { importSdk: () => Promise.reject(new Error("Cannot find package '@wandb/sdk' imported from dist/index.js")) } })),
    );
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(error.message).toContain("could not be loaded (Cannot find package '@wandb/sdk'");
    expect(error.message).toContain('pnpm --filter @masa-rl/train-app add @wandb/sdk@0.5.1');
    expect(error.message).toContain('drop --wandb');
  });

  it('rejects a module without init()', async () => {
    const error = await failure(createWandbLogger(base({ _internal: { importSdk: () => Promise.resolve({ default: {} }) } })));
    expect(error.message).toMatch(/has no init\(\) function/);
  });

  it('says how to log in when there is no WANDB_API_KEY and no .netrc entry', async () => {
    const { module, calls } = fakeSdk();
    const homeDir = home();
    const error = await failure(createWandbLogger({ env: {}, homeDir, _internal: { importSdk: () => Promise.resolve(module) } }));
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(error.message).toContain(`${join(homeDir, '.netrc')} does not exist`);
    expect(error.message).toContain('`wandb login`');
    expect(error.message).toContain('WANDB_API_KEY');
    expect(calls).toHaveLength(0);
    const other = await failure(
      createWandbLogger({ env: {}, homeDir: home('machine github.com password x\n'), _internal: { importSdk: () => Promise.resolve(module) } }),
    );
    expect(other.message).toContain('has no entry for api.wandb.ai');
  });

  it('finds the key: WANDB_API_KEY, else the .netrc entry for the W&B host (NETRC or ~/.netrc)', () => {
    const netrcHome = home(`machine api.wandb.ai\n  login user\n  password from-netrc\nmachine 127.0.0.1:9 password local\n`);
    expect(findWandbApiKey({ WANDB_API_KEY: ' env-key ' }, netrcHome)).toBe('env-key');
    expect(findWandbApiKey({}, netrcHome)).toBe('from-netrc');
    expect(findWandbApiKey({ WANDB_BASE_URL: 'http://127.0.0.1:9/' }, netrcHome)).toBe('local');
    expect(findWandbApiKey({ NETRC: join(netrcHome, '.netrc') }, home())).toBe('from-netrc');
    expect(wandbHost('https://api.wandb.ai')).toBe('api.wandb.ai');
    expect(wandbHost('http://localhost:8080/path')).toBe('localhost:8080');
  });

  it('refuses WANDB_MODE=offline (the JS SDK has none) and says what to do instead', async () => {
    expect(resolveWandbMode({})).toBe('online');
    expect(resolveWandbMode({ WANDB_MODE: 'disabled' })).toBe('disabled');
    const error = await failure(createWandbLogger(base({ env: { WANDB_API_KEY: KEY, WANDB_MODE: 'offline' } })));
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(error.message).toMatch(/has no offline mode.*WANDB_MODE=disabled.*wandb sync --sync-tensorboard/);
    expect(() => resolveWandbMode({ WANDB_MODE: 'shadow' })).toThrow(/not a W&B mode/);
  });
});

describe('createWandbLogger with a fake SDK module', () => {
  it('creates the run with project, name, the config in W&B shape and the key, and removes the SDK signal handlers', async () => {
    const { module, calls } = fakeSdk();
    const sigint = process.listenerCount('SIGINT');
    const sigterm = process.listenerCount('SIGTERM');
    const logger = await createWandbLogger(
      base({ project: 'proj', name: 'run-a', config: { data: { train_batch_size: 4 }, trainer: { seed: 1 } }, _internal: { importSdk: () => Promise.resolve(module) } }),
    );
    expect(process.listenerCount('SIGINT')).toBe(sigint);
    expect(process.listenerCount('SIGTERM')).toBe(sigterm);
    expect(logger.url).toBe('https://wandb.ai/tester/proj/runs/run-1');
    expect(calls[0]?.options).toEqual({
      project: 'proj',
      name: 'run-a',
      config: { data: { value: { train_batch_size: 4 } }, trainer: { value: { seed: 1 } } },
      settings: { apiKey: KEY, baseUrl: 'https://api.wandb.ai', silent: true },
    });
    const metrics = { 'actor/pg_loss': 0.5 };
    logger.log(3, metrics);
    expect(calls[0]?.logs).toEqual([{ data: { 'actor/pg_loss': 0.5 }, step: 3 }]);
    expect(calls[0]?.logs[0]?.data).not.toBe(metrics);
    expect(await logger.finish(130)).toBe(true);
    expect(calls[0]?.finished).toEqual([130]);
  });

  it('turns a failed or silent init into RUNTIME_UNAVAILABLE without the key in the message', async () => {
    const refused = fakeSdk({ initError: new Error(`Fatal HTTP error (401) for key ${KEY}`) });
    const sigint = process.listenerCount('SIGINT');
    const error = await failure(createWandbLogger(base({ _internal: { importSdk: () => Promise.resolve(refused.module) } })));
    expect(process.listenerCount('SIGINT')).toBe(sigint);
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    expect(error.message).toContain('could not create the W&B run at https://api.wandb.ai (Fatal HTTP error (401) for key ***)');
    expect(error.message).not.toContain(KEY);
    expect(error.message).toContain('wandb login --relogin');

    const silent = fakeSdk({ hangInit: true });
    const timedOut = await failure(createWandbLogger(base({ initTimeoutMs: 50, _internal: { importSdk: () => Promise.resolve(silent.module) } })));
    expect(timedOut.message).toMatch(/no answer within 0 s/);
  });

  it('reports a finish that does not complete in time', async () => {
    const { module } = fakeSdk({ hangFinish: true });
    const logger = await createWandbLogger(base({ finishTimeoutMs: 30, _internal: { importSdk: () => Promise.resolve(module) } }));
    expect(await logger.finish(0)).toBe(false);
  });
});

// The real SDK (installed as an optional dependency), against a W&B stand-in on 127.0.0.1.
const sdkInstalled = await import('@wandb/sdk' as string).then(
  () => true,
  () => false,
);

describe.skipIf(!sdkInstalled)('createWandbLogger with the real @wandb/sdk against a local stand-in server', () => {
  it('creates the run, streams one history row per logged step and marks the run complete', async () => {
    const server = await startFakeWandbServer();
    servers.push(server);
    const sigint = process.listenerCount('SIGINT');
    const logger = await createWandbLogger({
      project: 'proj',
      name: 'run-a',
      config: { trainer: { seed: 3 } },
      env: { WANDB_API_KEY: KEY, WANDB_BASE_URL: server.baseUrl },
      homeDir: home(),
      initTimeoutMs: 20_000,
    });
    expect(process.listenerCount('SIGINT')).toBe(sigint);
    expect(logger.url).toMatch(new RegExp(`^${server.baseUrl}/tester/proj/runs/[a-z0-9]+$`));
    logger.log(0, { 'val-core/acc': 0.25 });
    logger.log(1, { 'actor/pg_loss': 0.5, 'critic/score/mean': 0.75 });
    expect(await logger.finish(0)).toBe(true);

    const auth = `Basic ${Buffer.from(`api:${KEY}`).toString('base64')}`;
    const graphql = server.requests.filter((request) => request.url === '/graphql');
    expect(graphql.map((request) => (request.body as { operationName?: string }).operationName)).toEqual(['Viewer', 'UpsertBucket']);
    expect(graphql.every((request) => request.authorization === auth)).toBe(true);
    const upsert = (graphql[1]?.body as { variables: Record<string, unknown> }).variables;
    expect(upsert['project']).toBe('proj');
    expect(upsert['displayName']).toBe('run-a');
    expect(JSON.parse(String(upsert['config']))).toEqual({ trainer: { value: { seed: 3 } } });

    const streamed = server.requests.filter((request) => request.url.endsWith('/file_stream')).map((request) => request.body as Record<string, unknown>);
    const rows = streamed.flatMap((body) => ((body['files'] as Record<string, { content: string[] }> | undefined)?.['wandb-history.jsonl']?.content ?? []).map((line) => JSON.parse(line) as Record<string, unknown>));
    expect(rows.map(({ _step, ...rest }) => ({ _step, ...Object.fromEntries(Object.entries(rest).filter(([key]) => !key.startsWith('_'))) }))).toEqual([
      { _step: 0, 'val-core/acc': 0.25 },
      { _step: 1, 'actor/pg_loss': 0.5, 'critic/score/mean': 0.75 },
    ]);
    expect(streamed.at(-1)).toEqual({ complete: true, exitcode: 0 });
  });

  it('fails before training when the server refuses the key', async () => {
    const server = await startFakeWandbServer({ failWith: 401 });
    servers.push(server);
    // The SDK prints the HTTP error itself.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const error = await failure(
      createWandbLogger({ env: { WANDB_API_KEY: KEY, WANDB_BASE_URL: server.baseUrl }, homeDir: home(), initTimeoutMs: 20_000 }),
    );
    expect(error.code).toBe('RUNTIME_UNAVAILABLE');
    quiet.mockRestore();
    expect(error.message).toContain(`could not create the W&B run at ${server.baseUrl}`);
    expect(error.message).not.toContain(KEY);
  });
});
