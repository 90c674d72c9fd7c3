/**
 * Weights & Biases through its official JS SDK (`@wandb/sdk`, an optional
 * dependency loaded with `await import()` only when asked for). Everything a
 * newcomer can get wrong is checked before training starts: the SDK missing,
 * not logged in (no `WANDB_API_KEY`, no `.netrc` entry from `wandb login`),
 * an offline mode the JS SDK does not have, and a server that cannot be
 * reached or refuses the key (the run is created before the first step).
 *
 * SDK facts this module works around (0.5.1): `init()` installs SIGINT and
 * SIGTERM handlers that call `process.exit()` — they would break the app's
 * Ctrl-C checkpoint, so they are removed right after `init()`; `WANDB_MODE=offline`
 * still contacts the server to create the run; run config is sent as given,
 * while the W&B UI reads `{ key: { value } }` (the Python SDK's shape), so the
 * config is wrapped that way.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { findNetrcPassword } from './netrc.js';

/** The version the app is tested with (its `optionalDependencies` pin). */
export const WANDB_SDK_VERSION = '0.5.1';

/** What the app uses of a `@wandb/sdk` run. */
export interface WandbRunHandle {
  readonly id: string;
  log(data: Record<string, unknown>, step?: number): void;
  finish(exitCode?: number): Promise<void>;
  url(): string;
}

/** What the app uses of the `@wandb/sdk` module (its default export). */
export interface WandbSdk {
  init(options: {
    project?: string;
    name?: string;
    config?: unknown;
    settings?: { apiKey?: string; baseUrl?: string; silent?: boolean };
  }): Promise<WandbRunHandle>;
}

export interface CreateWandbLoggerOptions {
  /** W&B project. @default 'masa-rl' */
  project?: string;
  /** Display name of the W&B run. @default W&B's generated name */
  name?: string;
  /** Logged once, as the run's config (the resolved training config). @default {} */
  config?: Readonly<Record<string, unknown>>;
  /** Environment (`WANDB_API_KEY`, `WANDB_BASE_URL`, `WANDB_MODE`, `NETRC`). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home folder holding `.netrc`. @default os.homedir() */
  homeDir?: string;
  /** Give up creating the run after this long. @default 60000 */
  initTimeoutMs?: number;
  /** Give up flushing at the end after this long. @default 30000 */
  finishTimeoutMs?: number;
  /** Test seams. */
  _internal?: { importSdk?: () => Promise<unknown> };
}

export interface WandbLogger {
  /** The run's page. */
  readonly url: string;
  /** Logs one row of metrics at `step`. */
  log(step: number, metrics: Readonly<Record<string, number>>): void;
  /** Flushes and closes the run; resolves `false` if that timed out. */
  finish(exitCode: number): Promise<boolean>;
}

const DEFAULT_BASE_URL = 'https://api.wandb.ai';
const DROP_HINT = 'or drop --wandb (and wandb from trainer.logger)';

/** `WANDB_MODE`: `online` (default), `disabled` (skip W&B), or an offline mode this SDK does not have. */
export type WandbMode = 'online' | 'disabled';

/**
 * Reads `WANDB_MODE`.
 *
 * @throws MasaError `RUNTIME_UNAVAILABLE` for `offline`/`dryrun` (the JS SDK contacts the server even then), `CONFIG_INVALID` for other values
 */
export function resolveWandbMode(env: Readonly<Record<string, string | undefined>>): WandbMode {
  const raw = (env['WANDB_MODE'] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'online' || raw === 'run') return 'online';
  if (raw === 'disabled') return 'disabled';
  if (raw === 'offline' || raw === 'dryrun') {
    throw new MasaError(
      'RUNTIME_UNAVAILABLE',
      `WANDB_MODE=${raw}: @wandb/sdk ${WANDB_SDK_VERSION} has no offline mode (it still contacts the W&B server to create the run). ` +
        'Unset WANDB_MODE to log online, set WANDB_MODE=disabled to skip W&B, or train with the TensorBoard files (on by default) ' +
        'and upload them later with `wandb sync --sync-tensorboard RUN_DIR/tensorboard`',
      { details: { WANDB_MODE: raw } },
    );
  }
  throw new MasaError('CONFIG_INVALID', `WANDB_MODE=${raw} is not a W&B mode; use online or disabled (or unset it)`, { details: { WANDB_MODE: raw } });
}

/** The host W&B keys are stored under in `.netrc` (as the SDK derives it: no scheme, no path, port kept). */
export function wandbHost(baseUrl: string): string {
  const withoutScheme = baseUrl.includes('://') ? baseUrl.slice(baseUrl.indexOf('://') + 3) : baseUrl;
  return withoutScheme.split('/')[0]?.trim() ?? '';
}

/**
 * Finds the API key: `WANDB_API_KEY`, else the `.netrc` entry for the W&B host
 * (`NETRC` or `~/.netrc`).
 *
 * @throws MasaError `RUNTIME_UNAVAILABLE` naming `wandb login` and `WANDB_API_KEY`
 */
export function findWandbApiKey(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  const fromEnv = env['WANDB_API_KEY']?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const host = wandbHost(env['WANDB_BASE_URL']?.trim() || DEFAULT_BASE_URL);
  const netrcPath = env['NETRC']?.trim() || join(homeDir, '.netrc');
  let text: string | undefined;
  try {
    text = readFileSync(netrcPath, 'utf8');
  } catch {
    text = undefined;
  }
  const fromNetrc = text === undefined ? undefined : findNetrcPassword(text, host);
  if (fromNetrc !== undefined) return fromNetrc;
  const where = text === undefined ? `${netrcPath} does not exist` : `${netrcPath} has no entry for ${host}`;
  throw new MasaError(
    'RUNTIME_UNAVAILABLE',
    `not logged in to Weights & Biases: WANDB_API_KEY is not set and ${where}. ` +
      `Run \`wandb login\` (it writes the key to ~/.netrc), or set WANDB_API_KEY to your key from https://wandb.ai/authorize, ${DROP_HINT}`,
    { details: { host, netrc: netrcPath } },
  );
}

function isWandbSdk(value: unknown): value is WandbSdk {
  return typeof value === 'object' && value !== null && typeof (value as { init?: unknown }).init === 'function';
}

async function loadSdk(importSdk: () => Promise<unknown>): Promise<WandbSdk> {
  let loaded: unknown;
  try {
    loaded = await importSdk();
  } catch (error: unknown) {
    throw new MasaError(
      'RUNTIME_UNAVAILABLE',
      `the W&B logger needs the optional package @wandb/sdk, which could not be loaded (${(error as Error).message.split('\n')[0]}); ` +
        `install it with \`pnpm --filter @masa-rl/train-app add @wandb/sdk@${WANDB_SDK_VERSION}\` (or \`pnpm install\` without --no-optional), ${DROP_HINT}`,
      { cause: error },
    );
  }
  const candidates = [(loaded as { default?: unknown } | null)?.default, loaded];
  const sdk = candidates.find(isWandbSdk);
  if (sdk === undefined) {
    throw new MasaError(
      'RUNTIME_UNAVAILABLE',
      `@wandb/sdk was loaded but has no init() function (an incompatible version?); install the tested one with \`pnpm --filter @masa-rl/train-app add @wandb/sdk@${WANDB_SDK_VERSION}\``,
    );
  }
  return sdk;
}

/** Runs `work`, then removes the process signal/exit listeners it added (the SDK's `process.exit()` on SIGINT). */
async function withoutNewProcessListeners<T>(work: () => Promise<T>): Promise<T> {
  // A plain EventEmitter view of `process`: the listeners are compared by identity only.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const events = ['SIGINT', 'SIGTERM', 'beforeExit'];
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const removeNew = (): void => {
    for (const event of events) {
      const known = before.get(event);
      for (const listener of emitter.listeners(event)) {
        if (known?.has(listener) !== true) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  };
  // The SDK adds them in a microtask right after init() is called (its key is given, so it never waits for a
  // login first): by the time init settles, or times out, they are all there.
  try {
    return await work();
  } finally {
    removeNew();
  }
}

function timeout<T>(promise: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ ok: false }), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The W&B UI reads config entries as `{ value }` (the Python SDK's shape); the JS SDK sends what it is given. */
function wrapConfig(config: Readonly<Record<string, unknown>>): Record<string, { value: unknown }> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value }]));
}

/**
 * Checks the setup and creates the W&B run (before any training step).
 *
 * @throws MasaError `RUNTIME_UNAVAILABLE` (SDK missing, not logged in, offline mode, server unreachable or key refused)
 */
export async function createWandbLogger(options: CreateWandbLoggerOptions = {}): Promise<WandbLogger> {
  const {
    project = 'masa-rl',
    name,
    config = {},
    env = process.env,
    homeDir = homedir(),
    initTimeoutMs = 60_000,
    finishTimeoutMs = 30_000,
  } = options;
  resolveWandbMode(env);
  // A variable specifier: the package is optional, so neither TypeScript nor the bundler may require it.
  const specifier: string = '@wandb/sdk';
  const importSdk = options._internal?.importSdk ?? (() => import(specifier));
  const sdk = await loadSdk(importSdk);
  const apiKey = findWandbApiKey(env, homeDir);
  const baseUrl = env['WANDB_BASE_URL']?.trim() || DEFAULT_BASE_URL;

  let run: WandbRunHandle;
  try {
    const started = await withoutNewProcessListeners(() =>
      timeout(
        sdk.init({
          project,
          ...(name === undefined ? {} : { name }),
          config: wrapConfig(config),
          settings: { apiKey, baseUrl, silent: true },
        }),
        initTimeoutMs,
      ),
    );
    if (!started.ok) {
      throw new Error(`no answer within ${Math.round(initTimeoutMs / 1000)} s`);
    }
    run = started.value;
  } catch (error: unknown) {
    const reason = (error instanceof Error ? error.message : String(error)).split(apiKey).join('***');
    throw new MasaError(
      'RUNTIME_UNAVAILABLE',
      `could not create the W&B run at ${baseUrl} (${reason}): check the network and WANDB_BASE_URL, and your API key ` +
        `(\`wandb login --relogin\` or WANDB_API_KEY), ${DROP_HINT}`,
      { cause: error, details: { baseUrl, project } },
    );
  }

  return {
    url: run.url(),
    log(step, metrics) {
      run.log({ ...metrics }, step);
    },
    async finish(exitCode) {
      try {
        const done = await timeout(run.finish(exitCode), finishTimeoutMs);
        return done.ok;
      } catch {
        return false;
      }
    },
  };
}
